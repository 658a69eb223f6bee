#!/usr/bin/env python3
# check-bench-json.py PKBOX_BENCH SECTIONS - runs pkbox-bench --quick --json
# --only=SECTIONS and checks the shape of what it prints: JSON, the backend,
# every section asked for, the figures each must have, every figure either a
# reason it is missing or positive numbers with p10 <= median <= p90.  Speed
# is never asserted.  Exit 77 when pkbox-bench cannot run here.
import json
import subprocess
import sys

# figures that must be measured (not "na") where the sections run at all
REQUIRED = {
    'gate': ['direct_call', 'empty_call', 'copy64_call', 'copy64_copy_in_call', 'host_callback'],
    'floor': ['mprotect_pair_1page', 'mprotect_pair_64pages'],
    'process': ['pipe_round_trip', 'socketpair_round_trip'],
    'malloc': ['glibc_malloc_%d' % s for s in (16, 256, 4096, 65536)] +
              ['pkbox_malloc_%d' % s for s in (16, 256, 4096, 65536)] + ['pkbox_malloc_live_limit'],
    'size': ['called_4096_call', 'called_4096_callback', 'host_4096_call', 'host_4096_callback'],
    'allocs': ['allocs_1_call', 'allocs_1_callback', 'allocs_1_after_peak_call'],
    'domains': ['domains_1_call', 'domains_1_callback', 'domains_limit', 'domains_limit_call'],
    'threads': ['threads_%d_%s' % (t, k) for t in (1, 2, 4, 8) for k in ('call', 'callback')] +
               ['threads_1_call_calls_per_s'],
    'zlib': ['direct_%d' % c for c in (1024, 4096, 65536, 1 << 20)],
}


def fail(msg):
    print('check-bench-json: ' + msg)
    sys.exit(1)


def check_figure(sec, f):
    name = f.get('name')
    if not isinstance(name, str) or not name:
        fail('%s: a figure without a name: %r' % (sec, f))
    if f.get('unit') not in ('ns', 'calls/s', 'count'):
        fail('%s/%s: unit %r' % (sec, name, f.get('unit')))
    if 'na' in f:
        if not isinstance(f['na'], str) or not f['na']:
            fail('%s/%s: "na" without a reason' % (sec, name))
        return False
    for k in ('median', 'p10', 'p90'):
        if not isinstance(f.get(k), (int, float)) or not f[k] > 0:
            fail('%s/%s: %s is %r, not a positive number' % (sec, name, k, f.get(k)))
    if not f['p10'] <= f['median'] <= f['p90']:
        fail('%s/%s: p10 %g, median %g, p90 %g out of order' % (sec, name, f['p10'], f['median'], f['p90']))
    if not (isinstance(f.get('rounds'), int) and f['rounds'] >= 1 and
            isinstance(f.get('batch'), int) and f['batch'] >= 1):
        fail('%s/%s: rounds %r, batch %r' % (sec, name, f.get('rounds'), f.get('batch')))
    return True


def main():
    bench, sections = sys.argv[1], sys.argv[2].split(',')
    p = subprocess.run([bench, '--quick', '--json', '--only=' + ','.join(sections)],
                       capture_output=True, text=True, timeout=110)
    if p.returncode == 77:
        print(p.stdout + p.stderr)
        sys.exit(77)
    if p.returncode != 0:
        fail('exit %d\n%s%s' % (p.returncode, p.stdout, p.stderr))
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        fail('not JSON (%s):\n%s' % (e, p.stdout))
    if doc.get('tool') != 'pkbox-bench' or doc.get('backend') not in ('pku', 'mprotect'):
        fail('tool %r, backend %r' % (doc.get('tool'), doc.get('backend')))
    if doc.get('quick') is not True or not isinstance(doc.get('notes'), list):
        fail('quick %r, notes %r' % (doc.get('quick'), doc.get('notes')))
    got = doc.get('sections')
    if not isinstance(got, dict) or sorted(got) != sorted(sections):
        fail('sections %r, asked for %r' % (sorted(got or {}), sorted(sections)))
    for sec in sections:
        figs = got[sec]
        if not isinstance(figs, list) or not figs:
            fail('%s: no figures' % sec)
        measured = {f['name'] for f in figs if check_figure(sec, f)}
        missing = [n for n in REQUIRED.get(sec, []) if n not in measured]
        if missing:
            fail('%s: not measured: %s\n%s' % (sec, ', '.join(missing), json.dumps(figs, indent=1)))
        print('%s: %d figures, %d measured' % (sec, len(figs), len(measured)))
    print('backend %s: the JSON has every figure asked for' % doc['backend'])


if __name__ == '__main__':
    main()
