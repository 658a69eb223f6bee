#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# explain-skips.py BUILDDIR WHAT [WHERE] - one line (two at most) on why the
# last `meson test` run in BUILDDIR skipped tests, from its testlog.json and
# this machine's protection keys (/proc/cpuinfo: pku, ospke).  WHAT names the
# run ("native", "ASan"), WHERE says where the pku cases run instead.
# PKBOX_CPUINFO=FILE reads another cpuinfo (to check this script).
import json
import os
import re
import sys

build, what = sys.argv[1], sys.argv[2]
where = sys.argv[3] if len(sys.argv) > 3 else 'they run in the PKU guests'
log = os.path.join(build, 'meson-logs', 'testlog.json')

flags = set()
try:
    with open(os.environ.get('PKBOX_CPUINFO', '/proc/cpuinfo')) as f:
        for line in f:
            if line.startswith('flags'):
                flags = set(line.split(':', 1)[1].split())
                break
except OSError:
    pass
if 'pku' not in flags:
    nokeys = 'the CPU has no PKU'
elif 'ospke' not in flags:
    nokeys = 'the CPU has PKU, the kernel has not turned it on: no OSPKE'
else:
    nokeys = None

total, skipped = 0, []
try:
    with open(log) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            total += 1
            if t.get('result') == 'SKIP':
                out = (t.get('stdout') or '') + (t.get('stderr') or '')
                lines = [x.strip() for x in out.splitlines() if x.strip()]
                name = t['name'].split(' / ')[-1]
                skipped.append((name, lines[-1] if lines else 'no reason given'))
except OSError as e:
    print('run-all: %s tests: no test log to explain skips (%s)' % (what, e))
    sys.exit(0)

if not skipped:
    print('run-all: no %s test skipped (%d run)' % (what, total))
    sys.exit(0)

pkeys = re.compile(r'\bpku\b|protection keys|pkeys', re.I)
if nokeys:
    keyed = [s for s in skipped if pkeys.search(s[1]) or pkeys.search(s[0])]
    other = [s for s in skipped if s not in keyed]
    if keyed:
        print('run-all: %d of %d %s tests skipped: no protection keys on this machine '
              '(%s); %s' % (len(keyed), total, what, nokeys, where))
else:
    other = skipped
    print('run-all: this machine has protection keys (pku, ospke), yet %d of %d %s tests skipped:'
          % (len(skipped), total, what))
if other:
    names = ', '.join(n for n, _ in other[:12])
    more = ' and %d more' % (len(other) - 12) if len(other) > 12 else ''
    reasons = sorted(set(r for _, r in other), key=lambda r: -sum(1 for _, x in other if x == r))
    print('run-all: %s%s%s; %s: %s' % ('other skips: ' if nokeys else '', names, more,
          'reason' if len(reasons) == 1 else 'most often', reasons[0][:120]))
