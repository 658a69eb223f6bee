/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wordcount.c - a well-behaved plugin: counts the words of a text. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

long count_words(const char *text);
long count_words(const char *text)
{
	char *copy = strdup(text); /* its own heap, in its compartment */
	long n = 0;
	int in = 0;

	if (!copy)
		return -1;
	for (char *p = copy; *p; p++) {
		if (isspace((unsigned char)*p))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	free(copy);
	return n;
}
