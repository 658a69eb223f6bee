#!/usr/bin/env python3
"""check-readme-example.py README FILE...: each FILE's text appears in
README.md as one of its code blocks, unchanged (the README's example of
wrapping a library is the one the suite builds and runs)."""
import re
import sys


def main():
    readme = open(sys.argv[1]).read()
    blocks = [b.strip('\n') for b in re.findall(r'```c\n(.*?)```', readme, re.S)]
    bad = 0
    for f in sys.argv[2:]:
        text = open(f).read().strip('\n')
        if text not in blocks:
            print('README.md does not show %s as it is' % f)
            bad += 1
    print('%d of %d files shown as they are' % (len(sys.argv) - 2 - bad, len(sys.argv) - 2))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
