/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* init.h - set-up (init.c): the layer above every engine file and below
 * the API edge, the only caller of pkbox__ensure_init(). */
#ifndef PKBOX_INIT_H
#define PKBOX_INIT_H

#include "pkeysbox.h"

/* sets the library up once (cfg: a whole struct, sz checked; NULL: the
 * defaults); -EALREADY if it is, the first set-up's error if that failed */
int pkbox__init(const struct pkbox_config *cfg);
/* sets the library up with the defaults unless it is: 0 or -errno */
int pkbox__ensure_init(void);
/* why compartments can write key-0 memory ("" when they cannot) */
const char *pkbox__key0_why(void);

#endif
