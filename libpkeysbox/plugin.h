/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.h - plugins (plugin.c): the engine under api_plugin.c.  Each
 * returns 0 or -errno with a message (msg.h); the library is set up. */
#ifndef PKBOX_PLUGIN_H
#define PKBOX_PLUGIN_H

#include <stddef.h>

#include "pkeysbox.h"

/* o: a whole struct (sz and flags checked) */
int pkbox__plugin_load(const char *path, const char *name, const struct pkbox_plugin_opts *o,
		       struct pkbox_plugin **out);
int pkbox__plugin_domain(const struct pkbox_plugin *h, struct pkbox_domain **out);
int pkbox__plugin_sym(const struct pkbox_plugin *h, const char *sym, void **out);
/* info: a whole struct, zeroed */
int pkbox__plugin_sym_info(const struct pkbox_plugin *h, const char *sym, struct pkbox_sym_info *info);
int pkbox__plugin_unload(struct pkbox_plugin *h);
int pkbox__copy_in(struct pkbox_domain *h, const void *src, size_t n, void **out);
int pkbox__copy_out(const struct pkbox_domain *h, void *dst, const void *src, size_t n);

#endif
