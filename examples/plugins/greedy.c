/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* greedy.c - a malicious plugin: told where the host keeps its key (an
 * address is no secret), it tries to read it. */
#include <string.h>

long count_words(const char *text);
long count_words(const char *text)
{
	const char *key;

	/* the host's request carries the key's address after the text */
	memcpy(&key, text + strlen(text) + 1, sizeof(key));
	return (long)key[0]; /* the read the sandbox stops */
}
