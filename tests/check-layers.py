#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-layers.py DESIGN.md LIBDIR [MAX] - the library's files against the map.

Reads the layer table of doc/DESIGN.md ("## The map": one row a layer, its
files in backquotes, bottom layer first) and the library's sources, and fails
when
  - a file of the library is in no layer, or a file of the table is missing;
  - a file calls upward: it includes a header of a higher layer, or uses a
    name (pkbox_*) that only a file of a higher layer defines;
  - files call each other in a circle, within a layer or across layers;
  - a function is longer than MAX lines (default 80), its signature to its
    closing brace.
A header's edges are those of its static inline bodies and macros, a .c
file's those of everything it includes and uses.  Exit 0, or 1 with one line
per problem.
"""
import os
import re
import sys


def strip(src):
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    src = re.sub(r'//[^\n]*', '', src)
    return re.sub(r'"(\\.|[^"\\])*"', '""', src)


def read_map(design):
    text = open(design).read()
    sec = text.split('## The map', 1)[1].split('\n## ', 1)[0]
    layers = []
    for line in sec.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) < 4 or cells[0] in ('layer', '') or set(cells[0]) <= set('-'):
            continue
        layers.append((cells[0], re.findall(r'`([\w.]+\.[chS])`', cells[1])))
    return layers


def definitions(lib, files):
    """name -> the file that defines it (pkbox_ names only)"""
    defs = {}
    for f in files:
        src = strip(open(os.path.join(lib, f)).read())
        if f.endswith('.S'):
            names = re.findall(r'^(pkbox_\w+):', src, re.M)
        elif f.endswith('.c'):
            names = re.findall(r'^(?!static)[A-Za-z_][\w \t*]*?\b(pkbox_\w+)\s*\([^;]*?\)\s*\{', src, re.M | re.S)
            names += re.findall(r'^(?!static|extern)[A-Za-z_][\w \t*]*?\b(pkbox_\w+)\s*(?:\[[^]]*\])?\s*(?:=|;)', src,
                                re.M)
        else:
            continue
        for n in names:
            defs.setdefault(n, set()).add(f)
    return {n: fs.pop() for n, fs in defs.items() if len(fs) == 1}


def uses(lib, f, files):
    raw = open(os.path.join(lib, f)).read()
    src = strip(raw)
    if f.endswith('.h'):  # only what runs: inline bodies and macros
        keep = []
        for m in re.finditer(r'static\s+inline[^{;]*\{', src):
            i, depth = m.end(), 1
            while depth and i < len(src):
                depth += {'{': 1, '}': -1}.get(src[i], 0)
                i += 1
            keep.append(src[m.end():i])
        keep += re.findall(r'^\s*#\s*define[^\n]*(?:\\\n[^\n]*)*', src, re.M)
        src = '\n'.join(keep)
    incs = {h for h in re.findall(r'#include\s+"([^"]+)"', raw) if h in files}
    src = re.sub(r'(->|\.)\s*[A-Za-z_]\w*', '', src)  # fields are no calls
    src = re.sub(r'\b(struct|enum|union)\s+\w+', '', src)  # nor type names
    return incs, set(re.findall(r'\bpkbox_\w+\b', src))


def circles(edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def long_functions(lib, files, most):
    """functions of the .c files longer than `most` lines ({ and } at column 0)"""
    out = []
    for f in files:
        if not f.endswith('.c'):
            continue
        lines = open(os.path.join(lib, f)).read().split('\n')
        start = None
        for i, line in enumerate(lines):
            if line == '{' and i > 0:
                start = i - 1
                while start > 0 and lines[start - 1].strip() and not lines[start - 1].startswith(('}', '#', '/*', ' *')) \
                        and lines[start - 1].rstrip().endswith((',', '(')):
                    start -= 1
            elif line.startswith('}') and start is not None:
                n = i - start + 1
                if n > most:
                    name = re.findall(r'(\w+)\s*\(', lines[start])
                    out.append(f'{f}:{start + 1}: {name[0] if name else "?"} is {n} lines (at most {most})')
                start = None
    return out


def main():
    design, lib = sys.argv[1], sys.argv[2]
    most = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    layers = read_map(design)
    level = {f: i for i, (_, fs) in enumerate(layers) for f in fs}
    files = sorted(f for f in os.listdir(lib) if f.endswith(('.c', '.h', '.S')) and f != 'config.h')
    problems = []
    # a header belongs with its .c (or stands alone in the table)
    for f in files:
        if f not in level and f.endswith('.h') and f[:-2] + '.c' in level:
            level[f] = level[f[:-2] + '.c']
    problems += [f'{f}: in no layer of the map' for f in files if f not in level]
    problems += [f'{f}: in the map, not in {lib}' for f in level if f not in files]
    defs = definitions(lib, files)
    edges = {}
    for f in files:
        incs, names = uses(lib, f, files)
        # (a header's inlines may use its own .c's variables: one unit)
        own = {f, f[:-2] + '.c'} if f.endswith('.h') else {f}
        tgt = set(incs) | {defs[n] for n in names if n in defs and defs[n] not in own}
        edges[f] = tgt
        for t in sorted(tgt):
            if f in level and t in level and level[t] > level[f]:
                problems.append(f'{f} ({layers[level[f]][0]}) calls upward into {t} ({layers[level[t]][0]})')
    problems += ['a circle: ' + ' -> '.join(c) for c in circles(edges)]
    problems += long_functions(lib, files, most)
    for p in problems:
        print(p)
    print(f'# {len(files)} files in {len(layers)} layers; {sum(len(t) for t in edges.values())} edges; '
          f'{len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
