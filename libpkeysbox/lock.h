/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.h - the library lock: one recursive mutex for the library's state.
 * Where it lives is chosen at set-up (init.c: in host-keyed state with the
 * pku backend, in the gate page with the mprotect one); the gate
 * configuration names it. */
#ifndef PKBOX_LOCK_H
#define PKBOX_LOCK_H

void pkbox__lock(void);
void pkbox__unlock(void);

#endif
