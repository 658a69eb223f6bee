/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* seal_check.h - the seal's look at the process as the kernel sees it. */
#ifndef PKBOX_SEAL_CHECK_H
#define PKBOX_SEAL_CHECK_H

/* Before anything changes: 0, or -EPERM/-EBUSY with the reason recorded
 * (pkbox_last_error()).  *status_fd gets a descriptor of
 * /proc/self/status for pkbox__seal_verify() (-1 when none); the caller
 * closes it. */
int pkbox__seal_check(int *status_fd);

/* Every signal handler in place (and its restorer) is host code: not in a
 * plugin's code, not in the pool, not in anonymous memory (a plugin's
 * constructor runs in its compartment before the seal, and could have
 * installed one).  0 or -EPERM. */
int pkbox__handlers_host(void);

/* After the policy is loaded: that the kernel applies it (the process's
 * seccomp mode and filter count, the SIGSYS handler, a refused probe).
 * 0, or -EPERM with the reason recorded. */
int pkbox__seal_verify(int status_fd, int nfilters);

/* A seal that did not verify: no compartment call runs from now on. */
void pkbox__seal_fail(void);

#endif
