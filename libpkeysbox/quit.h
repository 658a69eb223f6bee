/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* quit.h - a compartment's ends of the process, stopped (quit.c). */
#ifndef PKBOX_QUIT_H
#define PKBOX_QUIT_H

#include <pthread.h>
#include <stdint.h>

__attribute__((noreturn)) void pkbox__quit_exit(int status);
__attribute__((noreturn)) void pkbox__quit_abort(void);
__attribute__((noreturn)) void pkbox__quit_assert(const char *expr, const char *file, unsigned int line,
						  const char *fn);
__attribute__((noreturn)) void pkbox__quit_stack(void);
/* registrations of code to run later with the host's rights: taken, never
 * run */
int pkbox__quit_atexit(void (*fn)(void));
int pkbox__quit_cxa_atexit(void (*fn)(void *), void *arg, void *dso);
void pkbox__quit_cxa_finalize(void *dso);
int pkbox__quit_on_exit(void (*fn)(int, void *), void *arg);
int pkbox__quit_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));
/* which end the stop at ip is, or NULL: not one of these */
const char *pkbox__quit_what(uintptr_t ip);

#endif
