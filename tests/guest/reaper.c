/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reaper - runs a program as a child subreaper and waits for all its
 * descendants.  Exit status: the program's if non-zero, else the first
 * non-zero status of an orphaned descendant. */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int rc = -1, bad = 0, st;
	pid_t p, c;

	if (argc < 2)
		return 126;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	c = fork();
	if (c == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	for (;;) {
		p = wait(&st);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		int r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (p == c)
			rc = r;
		else if (r && !bad)
			bad = r;
	}
	return rc ? rc : bad;
}
