/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * quit.c - what a plugin's calls that end the process become inside its
 * compartment (the loader binds the names, alloc.c's table): exit(),
 * _exit(), _Exit(), quick_exit() and abort(), and the C library's own
 * ends (__assert_fail, __stack_chk_fail).  Each stops at an instruction of
 * its own, touching nothing (the C library's exit handlers and locks are
 * the host's): the fault that follows takes the compartment out, and the
 * gate reports which end it asked for (gate.c).
 *
 * And what a plugin registers to run later, when the host, not the
 * compartment, is running: exit handlers (atexit, on_exit, __cxa_atexit,
 * at_quick_exit, thread_local destructors), fork handlers, pthread key
 * destructors.  The C library would call them with the host's rights, so
 * they are taken and never run (pthread keys: alloc.c hands out keys the
 * host made, without their destructors).
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>

#include "quit.h"

#define STOP(label)                                                                                                \
	__asm__ volatile(".globl " label "\n\t.hidden " label "\n" label ":\n\tud2" ::: "memory");                \
	__builtin_unreachable()

void pkbox__quit_exit(int status)
{
	(void)status;
	STOP("pkbox__quit_exit_at");
}

void pkbox__quit_abort(void)
{
	STOP("pkbox__quit_abort_at");
}

void pkbox__quit_assert(const char *expr, const char *file, unsigned int line, const char *fn)
{
	(void)expr, (void)file, (void)line, (void)fn;
	STOP("pkbox__quit_assert_at");
}

void pkbox__quit_stack(void)
{
	STOP("pkbox__quit_stack_at");
}

const char *pkbox__quit_what(uintptr_t ip)
{
	extern const char pkbox__quit_exit_at[], pkbox__quit_abort_at[], pkbox__quit_assert_at[],
		pkbox__quit_stack_at[];

	if (ip == (uintptr_t)pkbox__quit_exit_at)
		return "it called exit() (or _exit, _Exit, quick_exit)";
	if (ip == (uintptr_t)pkbox__quit_abort_at)
		return "it called abort()";
	if (ip == (uintptr_t)pkbox__quit_assert_at)
		return "an assertion failed (__assert_fail)";
	if (ip == (uintptr_t)pkbox__quit_stack_at)
		return "its stack protector found its stack smashed (__stack_chk_fail)";
	return NULL;
}

/* ---- registrations that would run plugin code with the host's rights */

int pkbox__quit_atexit(void (*fn)(void))
{
	(void)fn;
	return 0;
}

int pkbox__quit_cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
	(void)fn, (void)arg, (void)dso;
	return 0;
}

/* what runs an object's registrations at its unload: none were taken */
void pkbox__quit_cxa_finalize(void *dso)
{
	(void)dso;
}

int pkbox__quit_on_exit(void (*fn)(int, void *), void *arg)
{
	(void)fn, (void)arg;
	return 0;
}

int pkbox__quit_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
	(void)prepare, (void)parent, (void)child;
	return 0;
}
