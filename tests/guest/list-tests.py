#!/usr/bin/env python3
# list-tests.py BUILD SCRIPT FILES EXPECT - turns `meson introspect --tests`
# into run_test lines for the guest's /init, and the list of host files the
# tests need (executables, scripts and their arguments, working directories).
import json
import os
import shlex
import subprocess
import sys

build, script, files, expect = sys.argv[1:5]
tests = json.loads(subprocess.run(['meson', 'introspect', '--tests', build], check=True,
                                  capture_output=True, text=True).stdout)
lines, need = [], set()
for t in tests:
    suites = [s.split(':')[-1] for s in t.get('suite', [])]
    if 'guest' in suites or 'native-only' in suites:
        continue
    # the PKU guests run the pku variants of the long attack programs; their
    # mprotect variants run natively and in the no-PKU guest (the emulated
    # guests would otherwise outgrow their time)
    if expect == 'pku' and t['name'].endswith('-mprotect') and \
            t['name'].startswith(('pitfalls', 'seal-check-', 'pkbox-run-', 'test_failclosed-')):
        continue
    # the mprotect backend's lazy switch (PKBOX_BACKEND=mprotect asked for):
    # natively and in the no-PKU guest
    if expect == 'pku' and t['name'].endswith('-mprotect-lazy'):
        continue
    # a file argument by its plain path: the guest has the file, not
    # necessarily every directory a path like dir/../file walks through
    cmd = [os.path.normpath(a) if os.path.isabs(a) and os.path.isfile(a) else a for a in t['cmd']]
    for a in cmd:
        if os.path.isfile(a):
            need.add(os.path.abspath(a))
        elif os.path.isdir(a):  # a directory argument: its files
            for f in sorted(os.listdir(a)):
                if os.path.isfile(os.path.join(a, f)):
                    need.add(os.path.abspath(os.path.join(a, f)))
    env = dict(t.get('env') or {})
    env['PKBOX_EXPECT_BACKEND'] = expect
    wd = t.get('workdir') or build
    need.add(os.path.abspath(wd) + '/')
    if os.path.abspath(wd) != os.path.abspath(build):  # a test's own directory: what it opens there
        for f in sorted(os.listdir(wd)):
            if os.path.isfile(os.path.join(wd, f)):
                need.add(os.path.abspath(os.path.join(wd, f)))
    timeout = int(t.get('timeout') or 60)
    lines.append('run_test %s %s %d env %s %s' % (
        shlex.quote(t['name']), shlex.quote(wd), timeout,
        ' '.join('%s=%s' % (k, shlex.quote(v)) for k, v in sorted(env.items())),
        ' '.join(shlex.quote(c) for c in cmd)))
with open(script, 'w') as f:
    f.write('\n'.join(lines) + '\n')
with open(files, 'w') as f:
    f.write('\n'.join(sorted(need)) + '\n')
