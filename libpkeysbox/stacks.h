/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stacks.h - domain stacks and, with key-0 protection, the TLS copies at
 * their bottom (stacks.c). */
#ifndef PKBOX_STACKS_H
#define PKBOX_STACKS_H

#include <stdint.h>

struct pkbox_dom;

/* maps thread ti's stack in d (and makes its TLS copy): 0 or -errno */
int pkbox__stack_ensure(struct pkbox_dom *d, int ti);
/* the thread pointer of thread ti's TLS copy in domain row `row` */
uintptr_t pkbox__tls_tp(int row, int ti);
/* the domain whose stack row holds addr, or -1 */
int pkbox__stack_row_of(uintptr_t addr);
/* unmaps all of d's stacks and clears its gate records */
void pkbox__stacks_release(struct pkbox_dom *d);

#endif
