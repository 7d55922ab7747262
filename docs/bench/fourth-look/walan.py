"""Which tables and indexes the SQLite writer's commits change, counted from the log it wrote.

Usage: python3 walan.py DATABASE STRACE_OUTPUT

STRACE_OUTPUT comes from
    strace -f -y -s 24 -x -e trace=pwrite64,fsync -o STRACE_OUTPUT \
        duban bench --db sqlite://DATABASE --only transitions --scale 2000 --rounds 1 --seconds 2

SQLite writes each WAL frame as a 24-byte header and then the page. The header's first four
bytes are the page number; the next four are non-zero only on a commit's last frame. Pages are
mapped to their table or index with `dbstat` on the database afterwards (pages do not move
without VACUUM). The commits are cut into phases by what they touch: the commit-limit round
(only `bench_commit_limit`), the engine (touches `case_parties`), and the rest (the load, the
raw-SQL baseline). Printed per phase: commits, frames a commit, and frames a commit by table or
index. Divide by the bench's "engine writes per commit" for frames an action.
"""

import collections
import re
import sqlite3
import sys

FRAME_HEADER = re.compile(r'^(\d+) pwrite64\(\d+<[^>]*-wal>, "((?:\\x[0-9a-f]{2}){24})", 24, ')


def commits(strace_output):
    """Each commit's pages, in the order they were committed, per writing thread."""
    pending = collections.defaultdict(list)
    for line in open(strace_output):
        m = FRAME_HEADER.match(line)
        if not m:
            continue
        tid = m.group(1)
        header = bytes(int(h, 16) for h in m.group(2).split('\\x')[1:])
        pending[tid].append(int.from_bytes(header[0:4], 'big'))
        if int.from_bytes(header[4:8], 'big'):
            yield pending.pop(tid)


def main(database, strace_output):
    con = sqlite3.connect(database)
    owner = {page: name for name, page in con.execute('SELECT name, pageno FROM dbstat')}

    def phase(names):
        if set(names) == {'bench_commit_limit'}:
            return 'limit'
        return 'engine' if any(n.startswith('case_parties') for n in names) else 'other'

    phases = []
    for pages in commits(strace_output):
        names = [owner.get(p, '(free)') for p in pages]
        kind = phase(names)
        if not phases or phases[-1][0] != kind:
            phases.append((kind, []))
        phases[-1][1].append(names)
    for kind, group in phases:
        if len(group) < 20:
            continue
        frames = sum(len(names) for names in group)
        print(f'{kind:7} commits={len(group):6} frames/commit={frames / len(group):6.1f}')
        if kind == 'limit':
            continue
        tally = collections.Counter(n for names in group for n in names)
        for name, count in tally.most_common(14):
            print(f'      {name:32} {count / len(group):6.2f}/commit')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
