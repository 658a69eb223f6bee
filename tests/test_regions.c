/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_regions.c - the region table (libpkeysbox/regions.c), built from its
 * source: lookups at the edges, overlaps refused, a full table, the owners'
 * lists and the grantees' lists. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "state.h"
#include "regions.h"

#define B0 0x10000000UL

/* a fresh state, reached as the library reaches it (pkbox__gc.st) */
static int setup(void **state)
{
	static struct pkbox_state *st;

	(void)state;
	if (!st) {
		void *gc = mmap((void *)(uintptr_t)PKBOX_GC_ADDR, PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (gc != (void *)(uintptr_t)PKBOX_GC_ADDR)
			return -1;
		st = malloc(sizeof(*st));
		pkbox__gc.st = (uint64_t)(uintptr_t)st;
	}
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++)
		st->doms[i].idx = i;
	return 0;
}

static int count_dom(int dom)
{
	int n = 0;

	for (int r = pkbox__dom_regions_first(dom); r >= 0; r = pkbox__region_next_of_dom(r))
		n++;
	return n;
}

static void test_edges(void **state)
{
	(void)state;
	int a = pkbox__region_add(1, B0, 2, false);
	int b = pkbox__region_add(1, B0 + 2 * PAGE, 1, false); /* right after a */

	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(pkbox__region_find(B0 - 1), -1);
	assert_int_equal(pkbox__region_find(B0), a);
	assert_int_equal(pkbox__region_find(B0 + 2 * PAGE - 1), a);
	assert_int_equal(pkbox__region_find(B0 + 2 * PAGE), b);
	assert_int_equal(pkbox__region_find(B0 + 3 * PAGE - 1), b);
	assert_int_equal(pkbox__region_find(B0 + 3 * PAGE), -1);
	assert_int_equal(pkbox__region_find(0), -1);
	assert_int_equal(pkbox__region_find(UINTPTR_MAX), -1);
	/* overlaps are refused, neighbours are not */
	assert_int_equal(pkbox__region_add(2, B0 + PAGE, 1, false), -EEXIST);
	assert_int_equal(pkbox__region_add(2, B0 - PAGE, 2, false), -EEXIST);
	assert_int_equal(pkbox__region_add(2, B0 + 2 * PAGE, 1, true), -EEXIST);
	assert_int_equal(pkbox__region_add(2, B0 - 4 * PAGE, 8, true), -EEXIST);
	assert_int_equal(pkbox__region_add(2, B0, 0, false), -EINVAL);
	int c = pkbox__region_add(2, B0 - PAGE, 1, true);
	assert_true(c >= 0);
	assert_int_equal(pkbox__region_find(B0 - 1), c);
	/* by address: positions */
	assert_int_equal(pkbox__region_at_pos(pkbox__regions_pos(B0)), a);
	assert_int_equal(pkbox__region_at_pos(pkbox__regions_pos(B0 + 1)), b);
	assert_int_equal(pkbox__region_at_pos(pkbox__regions_pos(B0 + 3 * PAGE)), -1);
	assert_int_equal(pkbox__region_at_pos(pkbox__regions_pos(0)), c);
	/* removal: the hole is free again, the rest still found */
	pkbox__region_remove(a);
	assert_int_equal(pkbox__region_find(B0), -1);
	assert_int_equal(pkbox__region_find(B0 + 2 * PAGE), b);
	assert_int_equal(pkbox__region_find(B0 - PAGE), c);
	assert_true(pkbox__region_add(3, B0 + PAGE, 1, false) >= 0);
	assert_int_equal(count_dom(1), 1);
	assert_int_equal(count_dom(2), 1);
	assert_int_equal(count_dom(3), 1);
}

static void test_many(void **state)
{
	(void)state;
	static int idx[PKBOX_MAX_REGIONS], order[PKBOX_MAX_REGIONS];

	for (int i = 0; i < PKBOX_MAX_REGIONS; i++)
		order[i] = i;
	srand(12);
	for (int i = PKBOX_MAX_REGIONS - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* every other page, in shuffled order, over the domains */
	for (int i = 0; i < PKBOX_MAX_REGIONS; i++) {
		int k = order[i];

		idx[k] = pkbox__region_add(1 + k % 5, B0 + (uintptr_t)k * 2 * PAGE, 1, k % 7 == 0);
		assert_true(idx[k] >= 0);
	}
	assert_true(pkbox__regions_full());
	assert_int_equal(pkbox__region_add(1, B0 - 8 * PAGE, 1, false), -ENOMEM);
	for (int k = 0; k < PKBOX_MAX_REGIONS; k++) {
		assert_int_equal(pkbox__region_find(B0 + (uintptr_t)k * 2 * PAGE + 5), idx[k]);
		assert_int_equal(pkbox__region_find(B0 + (uintptr_t)k * 2 * PAGE + PAGE), -1);
		assert_int_equal(pkbox__region_at_pos(k), idx[k]);
	}
	int total = 0;
	for (int d = 1; d <= 5; d++) {
		bool pool = false;

		for (int r = pkbox__dom_regions_first(d); r >= 0; r = pkbox__region_next_of_dom(r)) {
			assert_int_equal(pkbox__st->regions[r].dom, d);
			/* adopted segments first */
			if (!pkbox__region_foreign(r))
				pool = true;
			else
				assert_false(pool);
			total++;
		}
	}
	assert_int_equal(total, PKBOX_MAX_REGIONS);
	for (int k = 0; k < PKBOX_MAX_REGIONS; k += 2)
		pkbox__region_remove(idx[k]);
	assert_false(pkbox__regions_full());
	for (int k = 0; k < PKBOX_MAX_REGIONS; k++)
		assert_int_equal(pkbox__region_find(B0 + (uintptr_t)k * 2 * PAGE), k % 2 ? idx[k] : -1);
	for (int k = 0; k < PKBOX_MAX_REGIONS; k += 2)
		assert_true(pkbox__region_add(6, B0 + (uintptr_t)k * 2 * PAGE, 2, false) >= 0);
	assert_true(pkbox__regions_full());
	assert_int_equal(count_dom(6), PKBOX_MAX_REGIONS / 2);
}

static int count_grants_to(int dom)
{
	int n = 0;

	for (int g = pkbox__grants_to_first(dom); g >= 0; g = pkbox__grants_to_next(g)) {
		assert_int_equal(pkbox__st->regions[PKBOX_GRANT_REGION(g)].grants[PKBOX_GRANT_K(g)].dom, dom);
		n++;
	}
	return n;
}

static void test_grants(void **state)
{
	(void)state;
	int r[3];

	for (int i = 0; i < 3; i++)
		r[i] = pkbox__region_add(1, B0 + (uintptr_t)i * 4 * PAGE, 2, false);
	for (int d = 2; d < 2 + PKBOX_MAX_GRANTS; d++)
		assert_int_equal(pkbox__grant_set(r[0], d, PKBOX_ACCESS_READ), d - 2);
	assert_int_equal(pkbox__grant_set(r[0], 40, PKBOX_ACCESS_READ), -ENOSPC);
	assert_int_equal(pkbox__grant_set(r[0], 3, PKBOX_ACCESS_RW), 1); /* a change, not a new grant */
	assert_int_equal(pkbox__st->regions[r[0]].grants[1].access, PKBOX_ACCESS_RW);
	pkbox__grant_set(r[1], 3, PKBOX_ACCESS_READ);
	pkbox__grant_set(r[2], 3, PKBOX_ACCESS_READ);
	pkbox__grant_set(r[1], 4, PKBOX_ACCESS_READ);
	assert_int_equal(count_grants_to(3), 3);
	assert_int_equal(count_grants_to(4), 2);
	assert_int_equal(pkbox__region_grantees(r[1]), 1ULL << 3 | 1ULL << 4);
	/* dropping grant 1 of r[0] (to 3) moves its last grant (to 9) there */
	pkbox__grant_drop(r[0], 1);
	assert_int_equal(pkbox__grant_find(r[0], 3), -1);
	assert_int_equal(pkbox__grant_find(r[0], 2 + PKBOX_MAX_GRANTS - 1), 1);
	assert_int_equal(count_grants_to(3), 2);
	assert_int_equal(count_grants_to(2 + PKBOX_MAX_GRANTS - 1), 1);
	for (int d = 2; d < 2 + PKBOX_MAX_GRANTS; d++)
		if (d != 3)
			assert_int_equal(count_grants_to(d), d == 4 ? 2 : 1);
	/* a removed region's grants leave the grantees' lists */
	pkbox__region_remove(r[0]);
	assert_int_equal(count_grants_to(2), 0);
	assert_int_equal(count_grants_to(4), 1);
	assert_int_equal(count_grants_to(3), 2);
	pkbox__region_remove(r[1]);
	assert_int_equal(count_grants_to(3), 1);
	assert_int_equal(count_grants_to(4), 0);
	assert_int_equal(count_dom(1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_edges, setup),
		cmocka_unit_test_setup(test_many, setup),
		cmocka_unit_test_setup(test_grants, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
