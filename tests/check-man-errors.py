#!/usr/bin/env python3
# check-man-errors.py TEST_API_EDGE PLUGIN_DIR MAN3_DIR HEADER TEST_SOURCE
#
# The errors test_api_edge walks, against the man pages (written by
# doc/man/gen-man.py): runs it with PKBOX_EDGE_ERRNO_LOG set, and for every
# function, every errno it expected and every errno it saw on an error path
# must be listed in the ERRORS section of the function's man page.  Also:
# every function include/pkeysbox.h declares has a man page and a
# check_<name>() in test_api_edge.c.  test_api_edge's own failures are its
# test's business, not this one's.
import os
import re
import subprocess
import sys
import tempfile

exe, plugins, man3, header, source = sys.argv[1:6]


def declared(path):
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'^\s*#.*$', '', text, flags=re.M)
    return sorted(set(re.findall(r'\b(pkbox_[a-z0-9_]+)\s*\(', text)))


def page(fn):
    path = os.path.join(man3, fn + '.3')
    if not os.path.exists(path):
        return None, None
    text = open(path).read()
    m = re.match(r'\.so\s+(\S+)', text)
    if m:
        name = os.path.basename(m.group(1))
        text = open(os.path.join(man3, name)).read()
        return name[:-2], text
    return fn, text


def errors_section(text):
    m = re.search(r'^\.SH ERRORS\s*$(.*?)(?=^\.SH |\Z)', text, flags=re.M | re.S)
    return set(re.findall(r'^\.B (E[A-Z0-9]+)\s*$', m.group(1), flags=re.M)) if m else set()


problems = []
functions = declared(header)
checks = set(re.findall(r'^static void check_(pkbox_[a-z0-9_]+)\(void\)', open(source).read(), flags=re.M))
for fn in functions:
    if fn not in checks:
        problems.append('%s: no check_%s() in %s' % (fn, fn, os.path.basename(source)))
    if page(fn)[0] is None:
        problems.append('%s: no man page %s.3' % (fn, fn))

with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, 'errnos')
    open(log, 'w').close()
    env = dict(os.environ, PKBOX_EDGE_ERRNO_LOG=log)
    run = subprocess.run([exe, plugins], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print('# test_api_edge ran (exit %d; its own failures are the test_api_edge test\'s)' % run.returncode)
    seen = {}
    for line in open(log):
        parts = line.split()
        if len(parts) < 3:
            continue
        fn, kind, err = parts[0], parts[1], ' '.join(parts[2:])
        seen.setdefault(fn, {}).setdefault(err, set()).add(kind)

if not seen:
    problems.append('test_api_edge logged no error paths')
for fn in sorted(seen):
    name, text = page(fn)
    if name is None:
        problems.append('%s: no man page' % fn)
        continue
    documented = errors_section(text)
    for err in sorted(seen[fn]):
        if err in documented:
            continue
        how = ' and '.join(sorted(seen[fn][err]))  # expected (by the test), observed (from the library)
        where = 'the ERRORS section of %s(3)' % name if documented else '%s(3), which has no ERRORS section' % name
        problems.append('%s: %s %s, not in %s' % (fn, how, err, where))

for p in problems:
    print(p)
print('# %d functions, %d with error paths walked; %d problems' % (len(functions), len(seen), len(problems)))
sys.exit(1 if problems else 0)
