/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sqlite.c - the sqlite3 job: an in-memory database, a table made and
 * filled from the input's lines (a word and a number each), then queried;
 * the result is the queries' rows as text. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *q = realloc(t->p, cap);
		if (!q)
			return;
		t->p = q;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n + 1);
	t->len += n;
}

static int row(void *arg, int n, char **vals, char **cols)
{
	struct text *t = arg;

	for (int i = 0; i < n; i++) {
		put(t, cols[i]);
		put(t, "=");
		put(t, vals[i] ? vals[i] : "NULL");
		put(t, i + 1 < n ? " " : "\n");
	}
	return 0;
}

static int fill(sqlite3 *db, const struct rl_job *j)
{
	sqlite3_stmt *st;
	const char *s = (const char *)j->in, *end = s + j->in_len;

	if (sqlite3_prepare_v2(db, "INSERT INTO t(word, n) VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end;
		const char *sp = memchr(s, ' ', (size_t)(e - s));
		if (sp) {
			sqlite3_bind_text(st, 1, s, (int)(sp - s), SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, strtoll(sp + 1, NULL, 10));
			if (sqlite3_step(st) != SQLITE_DONE)
				break;
			sqlite3_reset(st);
		}
		s = e + 1;
	}
	return sqlite3_finalize(st) == SQLITE_OK ? 0 : -1;
}

intptr_t rl_sqlite_job(void *arg)
{
	struct rl_job *j = arg;
	struct text t = { 0 };
	sqlite3 *db = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return j->err = 1;
	if (sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, word TEXT, n INTEGER);"
			     "CREATE INDEX t_word ON t(word);", NULL, NULL, NULL) != SQLITE_OK)
		j->err = 2;
	else if (fill(db, j))
		j->err = 3;
	else if (sqlite3_exec(db, "SELECT count(*) AS rows, sum(n) AS total, min(word) AS first, max(word) AS last FROM t;"
				  "SELECT word, count(*) AS c, sum(n) AS s, printf('%.3f', avg(n)) AS a FROM t "
				  "GROUP BY word ORDER BY c DESC, word LIMIT 20;"
				  "SELECT upper(word) || '-' || (n % 97) AS k FROM t WHERE n % 13 = 0 ORDER BY id LIMIT 30;"
				  "SELECT sqlite_version() AS v;",
			      row, &t, NULL) != SQLITE_OK)
		j->err = 4;
	sqlite3_close(db);
	if (!j->err && !t.p)
		j->err = 5;
	if (j->err) {
		free(t.p);
		return j->err;
	}
	j->out = (uint8_t *)t.p;
	j->out_len = t.len;
	return 0;
}
