#!/usr/bin/env python3
# gen-man.py - writes doc/man/man3/*.3 and man7/pkeysbox.7 from the table
# below (one entry per page).  Edit here, run it, commit both.
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = "2026-11-22"
INC = '#include <pkeysbox.h>'

E = {
    'EINVAL': 'an argument is NULL, zero, or out of range',
    'ENOENT': 'the domain handle is unknown or the domain was destroyed',
}

PAGES = [
    dict(name='pkbox_init', brief='set the library up',
         synopsis=['int pkbox_init(const struct pkbox_config *cfg);'],
         desc=r'''Sets the library up once per process: chooses the backend, reserves its
address-space pool (about 73 GiB of PROT_NONE address space, no memory),
allocates its two protection keys (pku backend) and installs its fault handlers.
Calling it is optional: the first call of any other function sets the library
up with the defaults.
.PP
\fIcfg\fP may be NULL. Otherwise \fIcfg->sz\fP must be \fBsizeof(struct pkbox_config)\fP;
\fIcfg->backend\fP is \fBPKBOX_BACKEND_AUTO\fP (the environment variable
\fBPKBOX_BACKEND\fP=auto|pku|mprotect, then detection), \fBPKBOX_BACKEND_PKU\fP or
\fBPKBOX_BACKEND_MPROTECT\fP; \fIcfg->flags\fP may hold \fBPKBOX_F_IGNORE_ENV\fP
(the environment variables \fBPKBOX_BACKEND\fP, \fBPKBOX_KEY0_WRITABLE\fP and
\fBPKBOX_MP_LAZY\fP are not read), \fBPKBOX_F_SEAL\fP,
\fBPKBOX_F_KEY0_WRITABLE\fP (see \fBpkbox_key0_protected\fP(3)) and
\fBPKBOX_F_MP_LAZY\fP (below);
\fIcfg->domain_quota\fP is the default heap quota of a domain (0: 256 MiB, at most 2 GiB);
\fIcfg->stack_size\fP the size of each domain stack (0: 256 KiB; 64 KiB to 64 MiB).
.PP
AUTO picks pku exactly when CPUID.(7,0):ECX has PKU (bit 3) and OSPKE (bit 4) and
\fBpkey_alloc\fP(2) works. Asking for pku where it is missing fails; the library
never falls back silently and never executes RDPKRU or WRPKRU without OSPKE.
.PP
The mprotect backend's switch is eager by default: each return from a
compartment gives the host all its memory back. \fBPKBOX_F_MP_LAZY\fP (or
\fBPKBOX_MP_LAZY\fP=1 in the environment) makes it lazy: the exit gives nothing
back and the host's pool memory comes back on its first touch, through the
fault handler, so a call costs the same however many allocations and domains
are alive. The caveat: the kernel does not fault on the host's behalf, so a
syscall on pool memory the host has not touched since the last call (a
\fBread\fP(2) into a \fBpkbox_malloc\fP(3) buffer, a \fBwrite\fP(2) from one)
fails with \fBEFAULT\fP; touch the buffer first. The choice is made once, at
set-up. With the pku backend the flag does nothing.''',
         errors=[('EALREADY', 'the library is set up already (explicitly or by an earlier call)'),
                 ('EINVAL', 'a bad \\fIcfg\\fP field, or PKBOX_BACKEND has an unknown value'),
                 ('ENOTSUP', 'pku was asked for and the CPU, the kernel or pkey_alloc() lacks it (pkbox_last_error() says which)'),
                 ('ENOSPC', 'the library\'s two protection keys could not be allocated'),
                 ('ENOMEM', 'the address-space pool could not be reserved')],
         example=r'''PKBOX_OPTS(pkbox_config, c, .backend = PKBOX_BACKEND_PKU);
if (pkbox_init(&c) < 0)
        fprintf(stderr, "no pkeys: %s\en", pkbox_last_error());''',
         notes='A failed set-up is remembered: every later call returns the same error.',
         see=['pkbox_backend', 'pkbox_probe']),
    dict(name='pkbox_backend', also=['pkbox_backend_name'], brief='the backend in use',
         synopsis=['enum pkbox_backend pkbox_backend(void);', 'const char *pkbox_backend_name(enum pkbox_backend b);'],
         desc=r'''\fBpkbox_backend\fP() returns \fBPKBOX_BACKEND_PKU\fP or \fBPKBOX_BACKEND_MPROTECT\fP,
setting the library up first if needed. \fBpkbox_backend_name\fP() returns "auto", "pku",
"mprotect" or "unknown".''',
         ret=r'''\fBpkbox_backend\fP() returns \fBPKBOX_BACKEND_AUTO\fP (0) if set-up failed; see
\fBpkbox_last_error\fP(3).''',
         errors=[('EINVAL', 'set-up failed (PKBOX_BACKEND has an unknown value, say); any error of \\fBpkbox_init\\fP(3) can be reported')],
         see=['pkbox_init', 'pkbox_probe']),
    dict(name='pkbox_key0_protected', brief='whether compartments can write key-0 memory',
         synopsis=['int pkbox_key0_protected(const char **why);'],
         desc=r'''Key-0 memory is everything the library does not tag: the host's stacks, heap,
globals and TLS, and the C library's state. With key-0 protection, code inside a
compartment can read it but not write it, so it cannot rewrite a return address on a
host stack, a function pointer the host calls, or the C library's state the host runs
through after the call (attacks a11-stack, a11-globals in tests/attacks).
.PP
Each compartment then runs with its own copy of the calling thread's static TLS
(\fIerrno\fP and the C library's other per-thread state), made at its first call
from that thread and after \fBpkbox_domain_reset\fP(3); the call gate switches the FS base.
A plugin's \fBprintf\fP(3) family on \fIstdout\fP and \fIstderr\fP is redirected to
unbuffered \fBwrite\fP(2)s made from the compartment; its \fBmalloc\fP(3) family to its
own heap. Code a compartment runs must be bound eagerly (\fB-Wl,-z,now\fP or
\fBLD_BIND_NOW=1\fP), and a host signal handler that runs while a thread is inside a
compartment sees the compartment's TLS.
.PP
It needs the pku backend, a kernel that writes signal frames with every key open
(Linux 6.12 and later; before, a fault inside a compartment could not be delivered
onto a signal stack the compartment cannot write), FSGSBASE, and glibc's description
of its static TLS. The mprotect backend does not offer it: it would have to make
every writable mapping of the process read-only at each switch.
\fBPKBOX_F_KEY0_WRITABLE\fP in \fBpkbox_init\fP(3) or \fBPKBOX_KEY0_WRITABLE\fP=1 in the
environment turn it off.''',
         ret=r'''1 if it is on, 0 if not. If \fIwhy\fP is not NULL, \fI*why\fP is set to a sentence
saying why it is off, or to "" when it is on. Sets the library up if needed.''',
         see=['pkbox_init', 'pkbox_seal', 'pkbox_host_run', 'pkeysbox']),
    dict(name='pkbox_domain_create', brief='make a compartment',
         synopsis=['struct pkbox_domain *pkbox_domain_create(const char *name, const struct pkbox_domain_opts *opts);'],
         desc=r'''Creates a domain: a protection key of its own (pku backend), a 1 GiB slot of
address space for its heap, and one stack per thread that calls into it. \fIname\fP (1 to 31
bytes) names it in fault reports. \fIopts\fP may be NULL; \fIopts->quota\fP is its heap quota
in bytes (0: the library default).''',
         ret=r'''A handle, or NULL with \fIerrno\fP set. Handles carry a generation: a destroyed
domain's handle never names a later domain.''',
         errors=[('EINVAL', '\\fIname\\fP is NULL or empty, \\fIopts->sz\\fP is too small, or the quota exceeds 2 GiB'),
                 ('ENAMETOOLONG', '\\fIname\\fP is longer than 31 bytes'),
                 ('ENOSPC', 'no protection key is left (pku: 13 domains) or all 63 slots are in use')],
         example=r'''struct pkbox_domain *d = pkbox_domain_create("parser", NULL);
if (!d)
        err(1, "pkbox_domain_create: %s", pkbox_last_error());''',
         see=['pkbox_domain_destroy', 'pkbox_call', 'pkbox_malloc']),
    dict(name='pkbox_domain_destroy', brief='destroy a compartment',
         synopsis=['int pkbox_domain_destroy(struct pkbox_domain *d);'],
         desc='Frees every allocation and stack of \\fId\\fP, gives its key back and forgets the handle.',
         errors=[('EINVAL', '\\fId\\fP is NULL, or it is the host domain'), ('ENOENT', E['ENOENT']),
                 ('EBUSY', 'a thread is inside \\fId\\fP (for example, a host callback tries to destroy the domain that called it)')],
         notes='A key is not handed to another domain while any thread is inside any compartment, so a stale PKRU value cannot open the new owner\'s memory.',
         see=['pkbox_domain_create', 'pkbox_domain_reset']),
    dict(name='pkbox_host_domain', brief="the host's private domain",
         synopsis=['struct pkbox_domain *pkbox_host_domain(void);'],
         desc=r'''Returns the host's private domain. Memory allocated in it with \fBpkbox_malloc\fP(3)
can be read and written only by code running outside compartments. It cannot be destroyed,
reset, or called into; it can grant single allocations to compartments with \fBpkbox_grant\fP(3).''',
         ret='The handle, or NULL if the library could not be set up.',
         errors=[('EINVAL', 'set-up failed (PKBOX_BACKEND has an unknown value, say); any error of \\fBpkbox_init\\fP(3) can be reported')],
         see=['pkbox_malloc', 'pkbox_grant']),
    dict(name='pkbox_domain_reset', brief='clear a faulted domain',
         synopsis=['int pkbox_domain_reset(struct pkbox_domain *d);'],
         desc='Frees all memory of \\fId\\fP (its contents may be anything after a fault), drops grants to it, and clears its faulted mark and fault record. Host callbacks stay registered.',
         errors=[('EINVAL', '\\fId\\fP is NULL'), ('ENOENT', E['ENOENT']), ('EBUSY', 'a thread is inside \\fId\\fP')],
         see=['pkbox_call', 'pkbox_last_fault', 'pkbox_domain_faulted']),
    dict(name='pkbox_domain_name', brief="a domain's name",
         synopsis=['int pkbox_domain_name(const struct pkbox_domain *d, char *buf, size_t len);'],
         desc='Copies the name of \\fId\\fP into \\fIbuf\\fP, truncated and NUL-terminated.',
         errors=[('EINVAL', '\\fIbuf\\fP is NULL or \\fIlen\\fP is 0, or \\fId\\fP is NULL'), ('ENOENT', E['ENOENT'])],
         see=['pkbox_domain_create']),
    dict(name='pkbox_domain_pkey', brief="a domain's protection key",
         synopsis=['int pkbox_domain_pkey(const struct pkbox_domain *d);'],
         desc='Returns the protection key that tags the memory of \\fId\\fP (1 to 15). In the mprotect backend memory has no key: it fails with \\-ENOTSUP. An allocation granted to other domains has a key of its own (see \\fBpkbox_grant\\fP(3)).',
         errors=[('EINVAL', '\\fId\\fP is NULL'), ('ENOENT', E['ENOENT']), ('ENOTSUP', 'the mprotect backend is in use: its domains have no protection key')],
         ret='The key, or a negative errno value.',
         see=['pkbox_domain_create', 'pkey_mprotect(2)']),
    dict(name='pkbox_domain_faulted', brief='whether a domain faulted',
         synopsis=['int pkbox_domain_faulted(const struct pkbox_domain *d);'],
         desc='Returns 1 if \\fId\\fP is marked faulted (calls into it return \\-ENOTRECOVERABLE until \\fBpkbox_domain_reset\\fP(3)), 0 if not.',
         errors=[('EINVAL', '\\fId\\fP is NULL'), ('ENOENT', E['ENOENT'])],
         ret='1, 0, or a negative errno value.',
         see=['pkbox_last_fault', 'pkbox_domain_reset']),
    dict(name='pkbox_domain_usage', brief="a domain's memory use",
         synopsis=['int pkbox_domain_usage(const struct pkbox_domain *d, size_t *used, size_t *quota);'],
         desc='Stores the bytes of the pages that hold the allocations of \\fId\\fP (the pages of its page-granular allocations, and the pages of its runs that hold at least one live packed object; see \\fBpkbox_malloc\\fP(3)) and its quota; either pointer may be NULL, not both.',
         errors=[('EINVAL', 'both pointers are NULL, or \\fId\\fP is NULL'), ('ENOENT', E['ENOENT'])],
         see=['pkbox_malloc']),
    dict(name='pkbox_domain_of', brief='which domain owns an address',
         synopsis=['struct pkbox_domain *pkbox_domain_of(const void *addr);'],
         desc='Returns the domain whose allocation (a page-granular one, or a live packed object) or domain stack holds \\fIaddr\\fP.',
         ret='A handle, or NULL with \\fIerrno\\fP ENOENT if \\fIaddr\\fP is in no domain.',
         errors=[('ENOENT', '\\fIaddr\\fP is in no allocation and no domain stack')],
         see=['pkbox_malloc']),
    dict(name='pkbox_malloc', also=['pkbox_malloc_flags', 'pkbox_calloc', 'pkbox_realloc', 'pkbox_free'], brief='memory inside a domain',
         synopsis=['void *pkbox_malloc(struct pkbox_domain *d, size_t size);',
                   'void *pkbox_malloc_flags(struct pkbox_domain *d, size_t size, unsigned int flags);',
                   'void *pkbox_calloc(struct pkbox_domain *d, size_t nmemb, size_t size);',
                   'void *pkbox_realloc(struct pkbox_domain *d, void *ptr, size_t size);',
                   'int pkbox_free(struct pkbox_domain *d, void *ptr);'],
         desc=r'''Allocate and free memory tagged with the domain \fId\fP, 16-byte aligned.
.PP
Objects of up to 4096 bytes are \fIpacked\fP: each size class (16, 32, 48 ... 128 bytes, then
four classes per power of two: 160, 192, 224, 256, 320 ... 2560, 3072, 3584, 4096) has runs of 16
pages in the domain, one region each, which hold many objects side by side. The number of live
objects is limited by the quota only (the library's table of 4096 regions counts runs and
page-granular allocations, not objects).
.PP
Larger objects, and any object \fBpkbox_malloc_flags\fP() is
asked for with \fBPKBOX_MALLOC_GUARD\fP, are \fIpage-granular\fP: pages of their own, with an
inaccessible guard page before and after; the object ends where the trailing guard begins (its
size rounded up to 16 bytes), so an overflow faults at once. Only page-granular objects can be
granted to other domains (\fBpkbox_grant\fP(3)): a grant is per page.
.PP
The allocator's bookkeeping (which objects are live, which may be handed out) lives in the
library's own memory, out of every compartment's reach, never next to an object: a compartment
that writes its own memory cannot make \fBpkbox_free\fP() free anything else. What is caught:
freeing a pointer that is not a live allocation of \fId\fP (a double free, a pointer into an
object, a pointer to a freed object, another domain's object, memory of no domain) fails with
EINVAL and changes nothing. A freed packed object is zeroed at once and is not handed out again
before 32 more objects of the domain were freed (a quarantine); a run with no live object left
is given back once its last freed object leaves the quarantine (its pages are dropped and made
inaccessible: a use after free faults). Freed page-granular memory is given back at once.
A use after free of a packed object whose run is still in use reads zeros and is not caught.
.PP
\fBpkbox_calloc\fP() returns zeroed memory and checks \fInmemb\fP * \fIsize\fP for overflow.
\fBpkbox_realloc\fP() with a NULL \fIptr\fP allocates; with \fIsize\fP 0 frees and returns NULL;
a packed object that stays in its size class is not moved; a page-granular object made with
\fBPKBOX_MALLOC_GUARD\fP stays page-granular.
\fBpkbox_free\fP() with a NULL \fIptr\fP does nothing.''',
         ret=r'''The pointer functions return NULL and set \fIerrno\fP on failure. \fBpkbox_free\fP()
returns 0 or a negative errno value.''',
         errors=[('EINVAL', '\\fId\\fP is NULL, \\fIsize\\fP is 0, \\fIflags\\fP has an unknown bit, or \\fIptr\\fP is not a live allocation of \\fId\\fP (double free, interior, freed or foreign pointer, another domain\'s allocation)'),
                 ('ENOENT', E['ENOENT']),
                 ('ENOMEM', '\\fIsize\\fP is larger than a domain, the overflow check failed, 4096 runs and page-granular allocations are live, or the domain\'s address space is used up'),
                 ('EDQUOT', 'the domain\'s quota would be exceeded'),
                 ('EBUSY', '\\fIptr\\fP is granted to other domains (realloc), or granted while its domain runs (free)')],
         example=r'''char *buf = pkbox_malloc(d, 4096);
strcpy(buf, "input for the plugin");
char *shared = pkbox_malloc_flags(d, 64, PKBOX_MALLOC_GUARD); /* can be granted */''',
         notes='The quota (\\fBpkbox_domain_usage\\fP(3)) counts the pages that hold live packed objects and the pages of page-granular ones; guard pages and the free pages of a run are not counted. Call these from the host, not from inside a compartment.',
         see=['pkbox_domain_usage', 'pkbox_grant', 'pkbox_host_domain']),
    dict(name='pkbox_grant', also=['pkbox_revoke'], brief='share one allocation with another domain',
         synopsis=['int pkbox_grant(struct pkbox_domain *owner, void *ptr, struct pkbox_domain *to, int access);',
                   'int pkbox_revoke(struct pkbox_domain *owner, void *ptr, struct pkbox_domain *to);'],
         desc=r'''\fBpkbox_grant\fP() lets the domain \fIto\fP read (\fBPKBOX_ACCESS_READ\fP) or read and write
(\fBPKBOX_ACCESS_RW\fP) the allocation \fIptr\fP of \fIowner\fP; granting again changes the access.
\fIptr\fP must be page-granular: an object of more than 4096 bytes, or one allocated with
\fBpkbox_malloc_flags\fP(..., \fBPKBOX_MALLOC_GUARD\fP). A smaller object shares its pages with
others, which a grant would expose: it is refused with EINVAL.
\fBpkbox_revoke\fP() takes it back at once, also from a thread already inside \fIto\fP.
.PP
In the pku backend a shared allocation gets a protection key of its own (a key is per page,
rights are per domain); on revoke it is retagged with the owner's key, or with a fresh key if
other grantees remain. In the mprotect backend the allocation's protection is set on each
entry into a domain.''',
         errors=[('EINVAL', '\\fIaccess\\fP is not READ or RW, \\fIptr\\fP is NULL, not a live allocation of \\fIowner\\fP or a packed (not page-granular) one, \\fIowner\\fP equals \\fIto\\fP, or \\fIto\\fP is the host'),
                 ('ENOENT', E['ENOENT'] + ', or (revoke) \\fIptr\\fP is not granted to \\fIto\\fP'),
                 ('ENOSPC', 'no protection key is left for the shared allocation, or it has 8 grantees')],
         see=['pkbox_malloc', 'pkbox_call']),
    dict(name='pkbox_call', brief='run a function inside a compartment',
         synopsis=['typedef intptr_t (*pkbox_fn)(void *arg);',
                   'int pkbox_call(struct pkbox_domain *d, pkbox_fn fn, void *arg, intptr_t *ret);'],
         desc=r'''Runs \fIfn\fP(\fIarg\fP) inside \fId\fP, on \fId\fP's stack for this thread, with \fId\fP's rights:
its own memory, memory granted to it, and key-0 memory (libc, the ordinary heap; read-only
with key-0 protection, see \fBpkbox_key0_protected\fP(3)). The host's
private domain, the library's state and other domains' memory are out of reach. When \fIfn\fP
returns, the host's rights and registers are restored and the value is stored in *\fIret\fP
(if \fIret\fP is not NULL).
.PP
If \fIfn\fP faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP), the fault is contained: the call
returns \-EFAULT, the domain is marked faulted and \fBpkbox_last_fault\fP(3) says what happened.
Once the process is sealed, \fIfn\fP ending the process (\fBexit\fP(3), \fB_exit\fP(2), \fBabort\fP(3),
\fBraise\fP(3) or \fBkill\fP(2) of its own process) is stopped the same way: \-EFAULT, the domain
marked faulted, signal SIGSYS and the syscall number in the fault's \fIaddr\fP, and a message
that says what \fIfn\fP tried; the host carries on.
Inside \fIfn\fP, \fBpkbox_host_call\fP(3) reaches the host callbacks registered for \fId\fP.''',
         errors=[('EFAULT', 'the compartment faulted, or was stopped for a syscall the seal refuses (ending the process among them)'),
                 ('ENOTRECOVERABLE', '\\fId\\fP faulted earlier: reset or destroy it'),
                 ('EINVAL', '\\fIfn\\fP or \\fId\\fP is NULL, or \\fId\\fP is the host domain'),
                 ('ENOENT', E['ENOENT']),
                 ('EDEADLK', 'this thread is inside \\fId\\fP already (a callback calling back into its caller)'),
                 ('ELOOP', 'calls are nested 16 deep'),
                 ('EPERM', 'called from inside a compartment'),
                 ('EAGAIN', 'more than 256 threads use the library'),
                 ('ENOTSUP', r'''the object that holds \fIfn\fP (the program or a shared library) is bound lazily:
its first call through a PLT entry inside the compartment would run the dynamic loader there,
which cannot work (with key-0 protection it faults writing the GOT; the seal disables its
XRSTOR).  Refused on every backend alike, before anything runs, and \fId\fP is not marked faulted;
\fBpkbox_seal\fP(3) refuses the same objects with the same error.  Link with
\fB\-Wl,\-z,now\fP (\fBpkg\-config \-\-libs libpkeysbox\fP has it) or run with \fBLD_BIND_NOW=1\fP'''),
                 ('ENOMEM', r'''the mprotect backend could not hide the memory \fId\fP may not touch ("cannot hide memory of
domain X from domain Y"): nothing of \fIfn\fP ran and what was hidden is visible again; or a
stack for \fId\fP could not be mapped.  The usual cause is a used-up mapping count
(\fIvm.max_map_count\fP, a compartment's doing); the call can be tried again once mappings are
freed.  When the host could not get all of its memory back after the call ("cannot give memory
of domain X back"), the call fails with this (or another errno of \fBmprotect\fP(2)) and \fId\fP
is marked faulted.  A call into \fId\fP left in a host callback that cannot be resumed is lost,
and \fId\fP marked faulted''')],
         example=r'''static intptr_t parse(void *arg) { return strlen(arg); }
\&...
intptr_t n;
int rc = pkbox_call(d, parse, buf, &n);
if (rc == \-EFAULT) {
        PKBOX_OPTS(pkbox_fault, f);
        pkbox_last_fault(d, &f);
        printf("%s faulted at %#lx\en", f.domain, (unsigned long)f.addr);
        pkbox_domain_reset(d);
}''',
         notes=r'''pku backend: a switch is one WRPKRU; threads run compartments concurrently (PKRU is per
thread), and a thread created before the domain can call into it.
mprotect backend: a switch is a few \fBmprotect\fP(2) calls; compartment calls are serialized
process-wide, and a host thread that touches hidden memory meanwhile waits until the call ends.
Faults are told apart with the library's signal handlers: a host that installs its own handler
for SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGTRAP afterwards calls \fBpkbox_signals_install\fP(3).''',
         see=['pkbox_domain_create', 'pkbox_last_fault', 'pkbox_host_call', 'pkbox_call_timed', 'pkbox_host_run', 'pkbox_signals_install']),
    dict(name='pkbox_call_timed', brief='run a function inside a compartment, for a limited time',
         synopsis=['#define PKBOX_TIMEOUT_SIGNAL 63',
                   'int pkbox_call_timed(struct pkbox_domain *d, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms);'],
         desc=r'''As \fBpkbox_call\fP(3), but when \fIfn\fP has run for \fItimeout_ms\fP milliseconds of wall-clock
time, the call is stopped as a fault would stop it: it returns \-ETIMEDOUT, the domain is
marked faulted (reset or destroy it before the next call) and \fBpkbox_last_fault\fP(3) reports
signal \fBPKBOX_TIMEOUT_SIGNAL\fP.
.PP
A per-thread timer sends \fBPKBOX_TIMEOUT_SIGNAL\fP (SIGRTMAX \- 1) to the calling thread, every
10 ms once the time is up, until the call is over; the library's handler sends a thread that
is inside the compartment through the gate's fault exit and ignores the signal anywhere else.
Time spent in host callbacks counts: a callback is never interrupted (the handler is installed
with SA_RESTART; see \\fBsignal\\fP(7) for the system calls that fail with EINTR all the same), and a call whose time ran out during a callback is not resumed. With the mprotect
backend the signal is blocked outside the compartment.
.PP
A compartment that blocks the signal, waits for it with \fBsigwaitinfo\fP(2) or changes the
timer is not stopped, unless the process is sealed with \fBPKBOX_SEAL_NO_EXIT\fP, which refuses
all three (see \fBpkbox_seal\fP(3)). The library uses the signal for nothing else; the host
should leave it alone.''',
         errors=[('ETIMEDOUT', 'the time ran out (the domain is marked faulted)'),
                 ('EFAULT', 'the compartment faulted'),
                 ('EINVAL', '\\fItimeout_ms\\fP is 0, \\fIfn\\fP or \\fId\\fP is NULL, or the thread is in a host callback (only outermost calls are timed)'),
                 ('ENOENT', E['ENOENT']),
                 ('ENOTRECOVERABLE', '\\fId\\fP faulted earlier: reset or destroy it'),
                 ('ENOTSUP', 'the object that holds \\fIfn\\fP is bound lazily, as for \\fBpkbox_call\\fP(3)'),
                 ('EPERM', 'called from inside a compartment')],
         example=r'''int rc = pkbox_call_timed(d, parse, buf, &n, 500);
if (rc == \-ETIMEDOUT) {
        fprintf(stderr, "parser hung: %s\en", pkbox_last_error());
        pkbox_domain_reset(d);
}''',
         see=['pkbox_call', 'pkbox_seal', 'pkbox_last_fault', 'pkbox-run(1)']),
    dict(name='pkbox_host_run', brief='run host code on a stack no compartment can write',
         synopsis=['int pkbox_host_run(pkbox_fn fn, void *arg, size_t stack_size, intptr_t *ret);'],
         desc=r'''Runs \fIfn\fP(\fIarg\fP) with host rights on a stack of its own, \fIstack_size\fP bytes
(0: 256 KiB) allocated in the host's private domain, and stores its value in *\fIret\fP (if
\fIret\fP is not NULL). The stack is freed when \fIfn\fP returns.
.PP
Why: where key-0 memory is writable inside compartments (the mprotect backend, kernels before
6.12; \fBpkbox_key0_protected\fP(3) says 0), a compartment can rewrite the host's ordinary
stacks while it runs: a return address the host goes back through after \fBpkbox_call\fP(3),
or a local the host uses next. The host's private domain is out of every compartment's reach
on every backend, so every frame of \fIfn\fP and of what it calls, \fBpkbox_call\fP(3)
included, is too (attack a11-host-stack in tests/attacks).
.PP
The frames of the caller of \fBpkbox_host_run\fP() stay where they are. A host that must not
trust them after a compartment ran keeps everything that follows the call inside \fIfn\fP, and
ends from there (as \fBpkbox-run\fP(1) does: it reports, then calls \fBexit_group\fP(2)).
Calls may nest; each thread has its own.''',
         errors=[('EINVAL', '\\fIfn\\fP is NULL, or \\fIstack_size\\fP is not 0 and not between 64 KiB and 64 MiB'),
                 ('EPERM', 'called from inside a compartment'),
                 ('ENOMEM', 'the host domain has no room for the stack')],
         example=r'''static intptr_t serve(void *arg)       /* on the private stack */
{
        struct job *j = arg;               /* pkbox_malloc(pkbox_host_domain(), ...) */
        intptr_t n;
        int rc = pkbox_call(j->dom, parse, j->buf, &n);
        report(j, rc, n);
        _exit(rc ? 86 : 0);                /* never back to main's stack */
}
\&...
pkbox_host_run(serve, job, 0, NULL);''',
         notes=r'''A signal handler that runs while the thread is on this stack should use
\fBSA_ONSTACK\fP: with the pku backend the kernel runs handlers with its default PKRU, which
does not open the host's private domain. The library's own handlers use the signal stack.
\fIfn\fP must return (or end the thread or process): leaving it with \fBlongjmp\fP(3) leaves
its stack allocated.''',
         see=['pkbox_call', 'pkbox_key0_protected', 'pkbox_host_domain', 'pkbox-run(1)']),
    dict(name='pkbox_callback_register', also=['pkbox_callback_unregister'], brief='host entry points for a compartment',
         synopsis=['int pkbox_callback_register(struct pkbox_domain *d, pkbox_fn fn);',
                   'int pkbox_callback_unregister(struct pkbox_domain *d, int id);'],
         desc=r'''Registers \fIfn\fP as a host function that code inside \fId\fP may call through
\fBpkbox_host_call\fP(3), and returns its id (0 to 31). Nothing of the host but the registered
functions can be reached that way. \fBpkbox_callback_unregister\fP() removes one.''',
         ret='register: the id (>= 0) or a negative errno value; unregister: 0 or a negative errno value.',
         errors=[('EINVAL', '\\fIfn\\fP or \\fId\\fP is NULL'), ('ENOENT', E['ENOENT'] + ', or (unregister) no callback has that id'),
                 ('ENOSPC', 'the domain has 32 callbacks')],
         see=['pkbox_host_call', 'pkbox_call']),
    dict(name='pkbox_host_call', brief='call a host callback from inside a compartment',
         synopsis=['int pkbox_host_call(int id, void *arg, intptr_t *ret);'],
         desc=r'''Called by code running inside a compartment: leaves it through the gate, runs the host
callback \fIid\fP registered for that domain with host rights on the host's stack, and
resumes the compartment with its return value in *\fIret\fP. The callback may itself call into
other domains.''',
         errors=[('EPERM', 'not inside a compartment, or no callback \\fIid\\fP is registered for this domain')],
         notes='The host must treat \\fIarg\\fP as untrusted: it comes from the compartment.',
         see=['pkbox_callback_register', 'pkbox_call']),
    dict(name='pkbox_last_fault', also=['pkbox_fault_count'], brief='what a compartment did wrong',
         synopsis=['int pkbox_last_fault(const struct pkbox_domain *d, struct pkbox_fault *f);',
                   'unsigned long pkbox_fault_count(void);'],
         desc=r'''Copies the record of the last fault in \fId\fP: \fIdomain\fP (its name), \fIaddr\fP
(the faulting address), \fIip\fP, \fIsigno\fP, \fIsi_code\fP (SEGV_PKUERR in the pku backend for
a protection-key violation, SEGV_ACCERR in the mprotect backend, SEGV_MAPERR for unmapped
memory), \fIaccess\fP (\fBPKBOX_FAULT_READ\fP, \fB_WRITE\fP or \fB_EXEC\fP, from the page-fault
error code), \fIpkey\fP (si_pkey, or the key of \fIaddr\fP, or \-1) and \fIowner\fP (the domain
that owns \fIaddr\fP: a domain name, "host", "library", "guard", or empty). Set \fIf->sz\fP first.
\fBpkbox_fault_count\fP() counts the faults contained since start.''',
         errors=[('EINVAL', '\\fIf\\fP is NULL, \\fIf->sz\\fP is too small, or \\fId\\fP is NULL'), ('ENOENT', E['ENOENT']),
                 ('ENODATA', 'the domain has not faulted since it was created or reset')],
         see=['pkbox_call', 'pkbox_domain_reset']),
    dict(name='pkbox_signals_install', brief="put the library's fault handlers back",
         synopsis=['int pkbox_signals_install(void);'],
         desc=r'''Installs the library's handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP
again, chaining to whatever handlers are installed now. Faults that are not a compartment's
go to those handlers (or take the default action). \fBpkbox_init\fP(3) does this once; call
it again after installing handlers of your own (test frameworks do).''',
         errors=[('EINVAL', 'set-up failed earlier (see pkbox_init(3))')],
         see=['pkbox_call', 'sigaction(2)']),
    dict(name='pkbox_set_print', brief="where the library's messages go",
         synopsis=['typedef void (*pkbox_print_fn)(enum pkbox_print_level level, const char *msg);',
                   'pkbox_print_fn pkbox_set_print(pkbox_print_fn fn);'],
         desc=r'''Sets the function that receives the library's messages (\fBPKBOX_WARN\fP,
\fBPKBOX_INFO\fP, \fBPKBOX_DEBUG\fP: every error message is passed at DEBUG, every contained
fault at INFO). The default prints WARN messages to stderr; NULL silences everything.''',
         ret='The previous function.',
         see=['pkbox_last_error']),
    dict(name='pkbox_last_error', brief="the last error message of this thread",
         synopsis=['const char *pkbox_last_error(void);'],
         desc='Returns a message for a person about the last error the library returned to this thread (empty if none). The text stays valid until the next failing call in this thread.',
         ret='A string, never NULL.',
         see=['pkbox_strerror', 'pkbox_set_print']),
    dict(name='pkbox_strerror', brief='text for an error code',
         synopsis=['const char *pkbox_strerror(int err);'],
         desc='Returns a short text for a negative errno value returned by the library ("unknown error" for others).',
         ret='A static string.',
         see=['pkbox_last_error']),
    dict(name='pkbox_seal', also=['pkbox_sealed', 'pkbox_refusal_count', 'pkbox_last_refusal'],
         brief='seal the process: code inspection and the syscall policy',
         synopsis=['struct pkbox_seal_opts { size_t sz; unsigned int flags; const char *const *allow_write; };',
                   'int pkbox_seal(const struct pkbox_seal_opts *opts);',
                   'int pkbox_sealed(void);',
                   'unsigned long pkbox_refusal_count(void);',
                   'int pkbox_last_refusal(struct pkbox_refusal *out);'],
         desc=r'''Seals the whole process, for all its threads, once: inspects every executable mapping
at every byte offset for WRPKRU, XRSTOR and XRSTORS (sequences split across pages and adjacent
mappings included); overwrites the two known system sites (glibc's \fBpkey_set\fP(3) and the
dynamic loader's lazy-binding XRSTOR) with UD2; reserves the free protection keys for later
domains; makes the process non-dumpable; with Landlock, closes /proc to file access and keeps
the files of the code in place from being written (\fBFILE POLICY\fP below); turns on
PR_SET_MDWE and mseals executable mappings where the kernel has them; and installs the seccomp
policy: protection changes on the library's memory only through the library, no new executable
memory, no \fBmremap\fP(2), no \fBptrace\fP(2), \fBprocess_vm_readv\fP(2), \fBseccomp\fP(2),
\fBpersonality\fP(2) changes, \fBuserfaultfd\fP(2), io_uring, \fBexecve\fP(2), \fBrseq\fP(2),
\fBopen_by_handle_at\fP(2) and \fBname_to_handle_at\fP(2), no new
signal handlers, no TIOCSTI \fBioctl\fP(2) (input pushed into the terminal), and no i386 or x32 entries. Everything that can fail is checked before anything
changes, including that every signal handler in place is the host's code (not a plugin's), and
that the process, as the kernel reports it, holds nothing that code run before the seal could
have left behind (see NOTES for the list). After loading the policy, the seal asks the kernel
whether it applies it. \fIopts\fP may be NULL; \fIflags\fP:
\fBPKBOX_SEAL_STOP_ON_REFUSAL\fP (a refused syscall ends the compartment's call, reported as a
fault with signal SIGSYS and the syscall number as the address, instead of failing with EPERM),
\fBPKBOX_SEAL_KEEP_PROC\fP (leave /proc open; /proc/self/mem is then not defended; the rest of
the file policy still applies),
\fBPKBOX_SEAL_NO_SIGRETURN\fP (refuse \fBrt_sigreturn\fP(2) to everyone, so a forged signal frame
cannot set PKRU; the library's handlers then leave by jumping to the gate's exits; for hosts
with no signal handler that returns; needs STOP_ON_REFUSAL), \fBPKBOX_SEAL_NO_THREADS\fP (no new
threads or processes: \fBclone\fP(2) with or without CLONE_VM, \fBclone3\fP, \fBfork\fP(2) and
\fBvfork\fP(2) refused to everyone, so no child outlives a call or waits for ever; for hosts that
make no thread or process after sealing; needs STOP_ON_REFUSAL), \fBPKBOX_SEAL_NO_REMAP\fP (refuse \fBmprotect\fP(2), \fBmunmap\fP(2),
\fBmadvise\fP(2), \fBmseal\fP(2) and \fBmmap\fP(2) with MAP_FIXED everywhere, the library's own calls
aside: no compartment can make a GOT writable or map over it, even where the kernel lacks
\fBmseal\fP(2); for hosts that change no mapping after sealing), \fBPKBOX_SEAL_NO_EXIT\fP (no
compartment can end, kill or stop the process: \fBexit\fP(2), \fBexit_group\fP(2), the
\fBkill\fP(2) family, \fBalarm\fP(2), \fBsetitimer\fP(2), \fBtimer_create\fP(2), \fBmq_notify\fP(3),
\fBsetrlimit\fP(2) and \fBprlimit\fP(2) with a new limit, \fBrt_sigsuspend\fP(2), \fBsigwaitinfo\fP(2),
\fBtimer_settime\fP(2), \fBtimer_delete\fP(2), blocking signals with
\fBsigprocmask\fP(2) (the kernel ends a process that faults with SIGSEGV blocked), SIGIO owners,
PR_SET_PDEATHSIG, the terminal's foreground group and settings, \fBsetpgid\fP(2) and
\fBsetsid\fP(2) are refused unless the library makes the call; the host ends with
\fBpkbox_exit\fP(3); for hosts that block no signal and end no thread after sealing; needs
NO_THREADS), \fBPKBOX_SEAL_KEEP_STDIO\fP (file descriptors 0, 1 and 2 stay the host's: no
\fBclose\fP(2), \fBdup2\fP(2) or \fBdup3\fP(2) onto them, \fBclose_range\fP(2) over them,
F_SETFL, FIONBIO or \fBshutdown\fP(2) on them, so that no compartment can hide or block
what the host writes there afterwards). With NO_SIGRETURN, NO_THREADS or NO_EXIT, a syscall refused to the host itself
ends the process with status 86.
Where the kernel has \fBmseal\fP(2), the code and the RELRO segments (GOTs) of every object
but the plugins are sealed.
.PP
A refused syscall fails with EPERM and raises no other effect; refusals in compartments are
recorded with host rights: \fBpkbox_refusal_count\fP() counts all refusals,
\fBpkbox_last_refusal\fP() copies the last one made by a compartment (\fIdomain\fP, \fInr\fP,
\fIarch\fP, \fIip\fP; set \fIout->sz\fP first), and a WARN message goes to the print function.
\fBpkbox_sealed\fP() returns 1 once sealed. \fBPKBOX_F_SEAL\fP in \fBpkbox_init\fP(3)'s flags
seals at the end of set-up.
.SH FILE POLICY
Where the kernel has Landlock, the sealing thread (and every thread it starts afterwards) gets a
ruleset that handles reading and every write-like access the kernel's Landlock ABI knows:
writing (ABI 1), making and removing entries of every kind (ABI 1), linking and renaming across
directories (REFER, ABI 2) and truncating (ABI 3). Reading is granted beneath every entry of /
but /proc. Writing is granted everywhere except beneath the directory of any file-backed
executable mapping in place at the seal (the program, its libraries, the dynamic loader,
libpkeysbox itself): the library walks from / down to each such directory; every directory
beside that path gets a rule with every right, every file directly in a directory on the path
gets writing and truncating. So no file beneath those directories can be opened for writing,
truncated, replaced, removed, renamed or linked elsewhere, and no entry can be made or removed
in the directories above them; what is already there beside them stays writable. The same
directories seen through other mounts of their file system (bind mounts, a device mounted twice,
found in /proc/self/mountinfo) are fenced off the same way; since Landlock attaches rules to
directories, not paths, a directory is told by device and inode. A compartment
therefore cannot change the code the host runs through the page cache (doc/THREAT_MODEL.md,
A16). Where Landlock has no TRUNCATE right (before Linux 6.2), \fBtruncate\fP(2),
\fBopen\fP(2) with O_RDONLY|O_TRUNC and \fBopenat2\fP(2) are refused by the syscall policy instead.
.PP
\fIallow_write\fP (read only when \fIopts->sz\fP covers it) replaces that default with an
allow-list: a NULL-terminated array of paths beneath which files may be written; nowhere else
(an empty list: no file at all). A path beneath a directory of executable code refuses the seal
(EPERM); a path above one is walked as / is by default, so the code's files stay read-only even
with \fI/\fP in the list. Paths are resolved with \fBrealpath\fP(3) at the seal (one that does
not exist refuses it). An allow-list needs Landlock: without it the seal fails with ENOTSUP.
\fBpkbox-run\fP(1) seals with one (\fB\-\-allow\-write\fP).
.PP
Landlock restricts the calling thread and its future children only: where the kernel has it,
\fBpkbox_seal\fP() refuses with EBUSY while any other thread runs (seal before starting threads).
It also refuses (EPERM) while an executable object is open for writing in a descriptor or mapped
shared (made by a plugin's constructor before the seal, such a descriptor would pass any rule on
paths), and warns when an executable object has several names (another name in a writable
directory stays writable).
.PP
Cost: one rule per entry of / and per entry of each directory above the objects' directories
(115 for a program in a build tree using /usr/lib; building them takes 1 to 2 ms, against
50 to 75 ms for the whole seal, most of it the seccomp filter's compilation). After the seal the host too cannot write beneath
the objects' directories (a build directory's test programs cannot write there; coverage data
written at exit is lost unless GCOV_PREFIX points elsewhere) nor create entries in the
directories above them (a program in $HOME/bin cannot create files directly in $HOME).
.PP
Not covered: block and character devices that reach the same storage (as root, writing
/dev/sdX under /usr's file system; /dev stays writable), files of objects mapped after the seal
(plugins loaded later: their directories were not known), and kernels without Landlock (the seal
then says so in a WARN message and goes on: the files stay writable and /proc stays open).''',
         ret=r'''0 on success, or a negative errno value (and \fIerrno\fP set) on failure. A seal refused by the
checks in NOTES changes nothing: no filter is loaded, no handler replaced, and
\fBpkbox_sealed\fP() stays 0. A policy that was loaded but that the kernel does not apply cannot
be taken back: the call fails with EPERM and the process can enter no compartment from then on.''',
         errors=[('EALREADY', 'the process is sealed already'),
                 ('EBUSY', 'a thread is inside a compartment; a thread the library has not registered exists, or the calling\nthread has an rseq area the C library did not register; a child process exists; another process\nshares the address space or holds its /proc/PID/mem; or (where the kernel has Landlock) another\nthread runs: the file policy would restrict the sealing thread only'),
                 ('ENOTSUP', 'an object is bound lazily (link with \\-Wl,\\-z,now or set LD_BIND_NOW=1), the library was built without libseccomp,\nor \\fIallow_write\\fP is given and the kernel has no Landlock'),
                 ('ENOENT', 'a path in \\fIallow_write\\fP does not exist (other errors of \\fBrealpath\\fP(3) are passed on)'),
                 ('EPERM', 'an executable mapping contains a PKRU-writing sequence (the message names it); a signal handler\nis not the host\'s code; an executable object is open for writing in a descriptor or mapped\nshared, or a path in \\fIallow_write\\fP is beneath a directory of executable code; one of the kernel-view checks in NOTES failed (the message names the\ndescriptor, mapping, signal or address); or the policy was loaded but the kernel does not apply it\n(then no compartment call runs in the process any more, and a second seal is refused)'),
                 ('E2BIG', 'more executable mappings, objects or directories above them than the library keeps track of'),
                 ('EACCES', 'an execute-only mapping cannot be inspected'),
                 ('EINVAL', '\\fIopts->sz\\fP too small or unknown flags'),
                 ('ENODATA', '(pkbox_last_refusal) no compartment was refused a syscall')],
         notes=r'''Before anything changes, the seal reads the kernel's account of the process (/proc/self/status,
maps or smaps, fd, task, the children lists, \fBkcmp\fP(2), \fBfcntl\fP(2),
\fBsigaction\fP(2), \fBrseq\fP(2)), never a value in writable memory, and refuses when:
.IP \(bu 2
a seccomp filter is in place already (Seccomp: or Seccomp_filters: not 0): one the library did not
load could make its calls fail or pretend to succeed; a process started under a container's
seccomp profile cannot be sealed;
.IP \(bu
a descriptor is open on a /proc/PID file or directory (mem, pagemap, environ, ...; /proc files that
name no process, such as /proc/cpuinfo, are fine), or is a pidfd, a userfaultfd (or
/dev/userfaultfd), an io_uring, /dev/mem or /dev/kmem (EPERM);
.IP \(bu
a child process exists (zombies aside), another process shares the address space
(\fBclone\fP(2) with CLONE_VM but not CLONE_THREAD, found with \fBkcmp\fP(2); without kcmp
only among the children), or a process started after this one, whose descriptors it can list,
holds its /proc/PID/mem or pagemap open (EBUSY);
.IP \(bu
a thread other than the caller has not been registered by the library (a thread registers the
first time it enters the library: \fBpkbox_call\fP(3), \fBpkbox_host_run\fP(3)), whatever
glibc's __rseq_size says; or the calling thread has an rseq area other than the C library's
(EBUSY);
.IP \(bu
a mapping is writable and executable; an executable mapping is System V or /dev/shm shared memory,
a memfd without F_SEAL_WRITE (or F_SEAL_FUTURE_WRITE) or one no descriptor shows the seals of, a
file this process has open for writing, or an object with a writable shared view (EPERM);
.IP \(bu
the library's memory (its state, gate configuration, gate page, thread directory, gate records,
code area, domains' memory, stacks and plugin segments) does not have the protection and, on
pku, the protection key the library recorded, something else is mapped in its pool, or part of
the pool is unmapped (EPERM);
.IP \(bu
a fault signal the library owns (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, the timeout signal) is
not handled by the library's handler: call \fBpkbox_signals_install\fP(3) after installing
handlers of your own (EPERM);
.IP \(bu
an executable file mapping differs from its file's bytes at its offset (host code patched in
memory), or its file cannot be read (EPERM).
.PP
After the policy is loaded the seal checks that /proc/self/status reports Seccomp: 2 and the two
filters it loaded, that its SIGSYS handler is in place, and that a forked child with SIGSYS
blocked is ended by the kernel when it calls \fBpkey_alloc\fP(2).
.PP
After sealing the host cannot create executable memory, run programs, use
\fBmremap\fP(2), open files under /proc, write files beneath the directories of its code, dump
core, or set signal handlers (install them before sealing); \fBpkey_set\fP(3) and rseq are gone. Ordinary memory, files, sockets and threads work as before. What each
rule defends, and what stays open, is in doc/THREAT_MODEL.md.''',
         see=['pkbox_inspect', 'pkbox_init', 'seccomp(2)', 'landlock(7)', 'pkeysbox(7)']),
    dict(name='pkbox_exit', brief='end the process',
         synopsis=['void pkbox_exit(int status);'],
         desc=r'''Ends the process with \fIstatus\fP, as \fBexit_group\fP(2) does: no exit handlers run and
no stdio buffer is flushed (flush first if needed). It is the one way out that
\fBPKBOX_SEAL_NO_EXIT\fP (see \fBpkbox_seal\fP(3)) lets through: the call carries the token
of the library's syscall policy, which no compartment can read. Called from inside a
compartment, it faults there like any access to the library's state.''',
         ret='It does not return.',
         example=r'''/* after the last compartment call: no exit handlers, no stdio */
write(2, line, len);
pkbox_exit(rc ? 86 : 0);''',
         see=['pkbox_seal', 'pkbox_host_run', 'exit_group(2)']),
    dict(name='pkbox_inspect', brief='find PKRU-writing instructions in code',
         synopsis=['struct pkbox_finding { uintptr_t addr; int kind; };',
                   'int pkbox_inspect(const void *code, size_t len, struct pkbox_finding *out, size_t max);'],
         desc=r'''Looks for the encodings of WRPKRU (0F 01 EF), XRSTOR (0F AE /5 with a memory operand)
and XRSTORS (0F C7 /3 with a memory operand) at every byte offset of [\fIcode\fP, \fIcode\fP +
\fIlen\fP), whatever the instruction boundaries. Stores up to \fImax\fP findings (\fIaddr\fP,
\fIkind\fP: \fBPKBOX_INSN_WRPKRU\fP, \fB_XRSTOR\fP, \fB_XRSTORS\fP) in \fIout\fP.''',
         ret='The number of findings (possibly more than \\fImax\\fP), or a negative errno value.',
         errors=[('EINVAL', '\\fIcode\\fP is NULL with a length, or \\fIout\\fP is NULL with a \\fImax\\fP')],
         see=['pkbox_seal']),
    dict(name='pkbox_plugin_load', also=['pkbox_plugin_domain', 'pkbox_plugin_sym', 'pkbox_plugin_unload'],
         brief='load a shared object into a compartment',
         synopsis=['struct pkbox_plugin_opts { size_t sz; size_t quota; size_t heap; unsigned int flags; unsigned int timeout_ms; };',
                   'struct pkbox_plugin *pkbox_plugin_load(const char *path, const char *name, const struct pkbox_plugin_opts *opts);',
                   'struct pkbox_domain *pkbox_plugin_domain(const struct pkbox_plugin *p);',
                   'void *pkbox_plugin_sym(const struct pkbox_plugin *p, const char *symbol);',
                   'int pkbox_plugin_unload(struct pkbox_plugin *p);'],
         desc=r'''Loads the shared object at \fIpath\fP into a new domain named \fIname\fP (NULL: the file's
name), in a process that \fBpkbox_seal\fP(3) has sealed: no instruction of the plugin, its
constructors included, runs before the policy is in force.
.PP
The library loads it itself; the dynamic loader never sees it. The file is read into the
host's private domain and checked (ELF, 64-bit, x86-64, a shared object, no segment both
writable and executable, no code page shared with data, no text relocations, no thread-local
storage but of the general-dynamic model, no IFUNC resolvers, which would run with host rights
while loading). Its code pages
are written to a new \fBmemfd_create\fP(2) image at their offsets, with zeros everywhere else;
the image is write-sealed, then inspected as sealed for WRPKRU, XRSTOR and XRSTORS at every
byte offset, and put on the library's \fIcode descriptor\fP. The seal lets executable memory be
mapped from that descriptor only (never writable, never at a fixed address), and lets no one
but the library close or replace it, so everything that can ever run from it was inspected.
The object is mapped whole from it; its data pages are then made writable (losing execute),
filled from the file and relocated by the library: its references to the \fBmalloc\fP(3)
family (\fBfree\fP, \fBcalloc\fP, \fBrealloc\fP, \fBreallocarray\fP, \fBmemalign\fP,
\fBposix_memalign\fP, \fBaligned_alloc\fP, \fBvalloc\fP, \fBpvalloc\fP,
\fBmalloc_usable_size\fP, \fBstrdup\fP, \fBstrndup\fP, \fBwcsdup\fP, \fBasprintf\fP,
\fBvasprintf\fP, \fBgetline\fP, \fBgetdelim\fP, \fBrealpath\fP), to stdio output, to
\fBdlsym\fP and \fBdlvsym\fP (which give the same names) and to \fB__tls_get_addr\fP (its
thread-local variables, in the compartment's heap) go to the domain's own, through any
relocation (GOT, PLT or a data pointer); other symbols resolve in the object first, then in the
objects loaded with it, then in the process. Its writable
segments (data, bss, and RELRO, read-only after relocation) become the domain's memory.
.PP
Of the objects it needs (DT_NEEDED), only the C runtime is shared with the host: glibc's
objects (\fBlibc.so.6\fP, \fBlibm.so.6\fP, the dynamic loader ...), the sanitizers' runtimes and
libpkeysbox, which the process must have loaded. Every other object, also one the host has
loaded itself, is found as the dynamic loader would (its RUNPATH, \fB$ORIGIN\fP expanded, then
the system's library directories) and loaded the same way into the same domain as an own copy,
so that its globals, its heap and the function pointers it keeps are the compartment's; up to
fifteen. The load's message (\fBpkbox_set_print\fP(3), info) lists the own copies and the shared
objects.
.PP
Then the constructors (DT_INIT and DT_INIT_ARRAY) run inside the compartment, those of the
objects it brought first, each with \fIopts->timeout_ms\fP as in \fBpkbox_call_timed\fP(3) when
it is not 0. A constructor that is stopped (a fault, a syscall the policy refuses under
\fBPKBOX_SEAL_STOP_ON_REFUSAL\fP, its time running out) fails the load with \fBEFAULT\fP and a
message that says how; the domain is destroyed and the host carries on.
.PP
\fIopts\fP may be NULL. Its \fIsz\fP is \fBsizeof\fP the caller's struct: fields past it are never
read, a struct smaller than the first version (\fIsz\fP, \fIquota\fP, \fIheap\fP) is refused,
and a larger one is accepted only when its bytes past the fields known here are zero.
\fIflags\fP: \fBPKBOX_PLUGIN_UNSEALED\fP loads before the seal; its constructors then run with
no policy in force and can leave behind what the seal cannot see (a descriptor, a process, a
filter): for comparisons and trusted objects only.
.PP
\fBpkbox_plugin_domain\fP() returns the domain to call into with \fBpkbox_call\fP(3);
\fBpkbox_plugin_sym\fP() the address of a function the plugin itself defines, looked up in the
host's copy of its file; \fBpkbox_plugin_unload\fP() runs the destructors inside (unless the
domain faulted), destroys the domain and unmaps the objects.''',
         ret='A handle, a domain, an address, or NULL with errno set; unload returns 0 or a negative errno value.',
         errors=[('EINVAL', 'a NULL or empty argument, \\fIopts->sz\\fP too small, unknown flags, or a non-zero tail past the\nknown fields'),
                 ('ENOENT', 'no such file, a dependency not found (or a part of the C runtime the process has not\nloaded), an undefined symbol, no such symbol in the plugin, or an unknown plugin handle'),
                 ('ENOEXEC', 'not an ELF shared object for x86-64, damaged, a segment writable and executable, code and\ndata on one page, text relocations, or a relocation type the loader does not know (message: why)'),
                 ('EPERM', 'its code contains a PKRU-writing sequence, or the process is not sealed (and\n\\fBPKBOX_PLUGIN_UNSEALED\\fP was not given)'),
                 ('ENOTSUP', 'it has IFUNC resolvers, or initial-exec thread-local storage or TLS descriptors'),
                 ('EFAULT', 'a constructor was stopped in the compartment (a fault, a refused syscall, its time limit)'),
                 ('ENOSPC', 'too many plugins or domains'),
                 ('ENAMETOOLONG', 'the domain name (given, or the file name of \\fIpath\\fP) is longer than 31 bytes'),
                 ('E2BIG', 'it needs more than fifteen objects besides the C runtime'),
                 ('EBUSY', '(unload) a thread is inside it')],
         notes=r'''Seal first, then load (\fBpkbox-run\fP(1) does). The host must not close the library's code
descriptor before sealing (a \fBmemfd\fP named \fIpkbox-plugin:none\fP); once sealed, nothing can.''',
         see=['pkbox_call', 'pkbox_copy_in', 'pkbox_plugin_sym_info', 'pkbox_seal', 'pkbox-run(1)']),
    dict(name='pkbox_plugin_sym_info', brief='find a function or data object of a plugin, and whose it is',
         synopsis=['#define PKBOX_SYM_FUNC 1',
                   '#define PKBOX_SYM_DATA 2',
                   'struct pkbox_sym_info { size_t sz; void *addr; size_t size; unsigned int kind; unsigned int writable; struct pkbox_domain *owner; char object[64]; };',
                   'int pkbox_plugin_sym_info(const struct pkbox_plugin *p, const char *symbol, struct pkbox_sym_info *info);'],
         desc=r'''Looks \fIsymbol\fP up among the symbols that plugin \fIp\fP exports, then among those of the
objects \fBpkbox_plugin_load\fP(3) loaded into its domain with it (its own copies: not the C
runtime, which it shares with the host), in the host's copies of their files, and fills
\fI*info\fP: \fIaddr\fP, where it is; \fIsize\fP, its size as its symbol table gives it;
\fIkind\fP, \fBPKBOX_SYM_FUNC\fP for code (call it with \fBpkbox_call\fP(3) on the plugin's
domain) or \fBPKBOX_SYM_DATA\fP for anything else; \fIowner\fP, the domain whose memory holds it:
the plugin's domain for its writable data and RELRO, NULL for code and read-only data (key 0 on
pku: every domain may read it, none may write it); \fIwritable\fP, 1 where the compartment may
write it; \fIobject\fP, the file name of the object that defines it.
.PP
\fBpkbox_plugin_sym\fP(3) finds functions of the plugin itself only; this finds data too. A value
read from the plugin's data is the compartment's to change at any time: read it with
\fBpkbox_copy_out\fP(3) against \fIowner\fP, and treat it as untrusted.
.PP
\fIinfo->sz\fP is \fBsizeof\fP the caller's struct, set by the caller: a struct smaller than the
first version (all the fields above) is refused, a larger one gets its unknown fields zeroed,
and \fIsz\fP is left as it is.''',
         ret='0, or a negative errno value with errno set.',
         errors=[('EINVAL', '\\fIsymbol\\fP is NULL or empty, \\fIp\\fP or \\fIinfo\\fP is NULL, or \\fIinfo->sz\\fP is too small'),
                 ('ENOENT', 'no such symbol in the plugin or the objects it brought, or an unknown or unloaded plugin'),
                 ('ENOTSUP', 'the symbol is a thread-local variable: each thread has its own, at no one address')],
         example=r'''PKBOX_OPTS(pkbox_sym_info, si);
if (pkbox_plugin_sym_info(p, "xmlMalloc", &si) == 0 && si.owner == pkbox_plugin_domain(p))
	printf("%s's xmlMalloc: %zu bytes of its domain's data\\n", si.object, si.size);''',
         see=['pkbox_plugin_load', 'pkbox_copy_out', 'pkbox_domain_of']),
    dict(name='pkbox_copy_in', also=['pkbox_copy_out'], brief='copy data across the compartment boundary',
         synopsis=['void *pkbox_copy_in(struct pkbox_domain *d, const void *src, size_t n);',
                   'int pkbox_copy_out(const struct pkbox_domain *d, void *dst, const void *src, size_t n);'],
         desc=r'''\fBpkbox_copy_in\fP() allocates \fIn\fP bytes in domain \fId\fP and copies \fIsrc\fP there
(free with \fBpkbox_free\fP(3)). \fBpkbox_copy_out\fP() copies \fIn\fP bytes from \fIsrc\fP to
\fIdst\fP only after checking that all of [\fIsrc\fP, \fIsrc\fP + \fIn\fP) is memory of \fId\fP: a
pointer a compartment hands back is untrusted, and this makes the check explicit (as tainted
values do in RLBox).''',
         errors=[('EINVAL', 'a NULL pointer with a non-zero size'), ('ENOENT', E['ENOENT']),
                 ('EFAULT', '(copy_out) the range is not memory of \\fId\\fP'), ('EDQUOT', '(copy_in) the quota is used up'),
                 ('ENOMEM', '(copy_in) no room left in the domain\'s address space')],
         see=['pkbox_plugin_load', 'pkbox_malloc']),
    dict(name='pkbox_code_commit', brief='code made at run time, under W^X',
         synopsis=['void *pkbox_code_commit(struct pkbox_domain *d, const void *code, size_t len);'],
         desc=r'''Copies \fIlen\fP bytes of machine code into a writable view that only the host can reach,
inspects that copy for PKRU-writing instructions, and returns the address of the code in an
executable view of the same memory that no one can write. No mapping is ever writable and
executable, and none is made after set-up, so this works in a sealed process. Commits are
separated by INT3 padding and are never freed (16 MiB in all). Call it from the host; a
compartment asks through a host callback.''',
         ret='The executable address, or NULL with errno set.',
         errors=[('EINVAL', '\\fIcode\\fP is NULL or \\fIlen\\fP is 0'), ('ENOENT', E['ENOENT']),
                 ('EPERM', 'the code contains WRPKRU, XRSTOR or XRSTORS, or the caller is inside a compartment'),
                 ('ENOSPC', 'the code area is full')],
         see=['pkbox_inspect', 'pkbox_seal']),
]


def esc(s):
    return s.replace('-', '\\-') if False else s


def page(p):
    out = []
    out.append('.TH %s 3 %s "libpkeysbox 0.1" "libpkeysbox Manual"' % (p['name'], DATE))
    out.append('.SH NAME')
    out.append(', '.join([p['name']] + p.get('also', [])).replace('_', '_') + ' \\- ' + p['brief'])
    out.append('.SH SYNOPSIS')
    out.append('.nf')
    out.append('.B %s' % INC)
    out.append('.PP')
    for s in p['synopsis']:
        out.append('.BI "%s"' % s.replace('"', '\\"'))
    out.append('.fi')
    out.append('.PP')
    out.append('Link with \\fI\\-lpkeysbox\\fP.')
    out.append('.SH DESCRIPTION')
    out.append(p['desc'])
    out.append('.SH RETURN VALUE')
    if 'ret' in p:
        out.append(p['ret'])
    else:
        out.append('0 on success, or a negative errno value (and \\fIerrno\\fP set) on failure.')
    if p.get('errors'):
        out.append('.SH ERRORS')
        for e, why in p['errors']:
            out.append('.TP')
            out.append('.B %s' % e)
            out.append(why[0].upper() + why[1:] + '.')
        out.append('.PP')
        out.append('A message for a person is in \\fBpkbox_last_error\\fP(3).')
    if p.get('example'):
        out.append('.SH EXAMPLES')
        out.append('.EX')
        out.append(p['example'])
        out.append('.EE')
    if p.get('notes'):
        out.append('.SH NOTES')
        out.append(p['notes'])
    out.append('.SH SEE ALSO')
    out.append(',\n'.join('.BR %s' % (s if '(' in s else s + ' (3)').replace('(', ' (', 1).replace('  (', ' (')
                          for s in p['see']) + ',\n.BR pkeysbox (7)')
    return '\n'.join(out) + '\n'


os.makedirs(os.path.join(HERE, 'man3'), exist_ok=True)
for p in PAGES:
    with open(os.path.join(HERE, 'man3', p['name'] + '.3'), 'w') as f:
        f.write(page(p))
    for a in p.get('also', []):
        if a == p['name']:
            continue
        with open(os.path.join(HERE, 'man3', a + '.3'), 'w') as f:
            f.write('.so man3/%s.3\n' % p['name'])
