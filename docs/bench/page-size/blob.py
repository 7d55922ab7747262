"""A 20 MB attachment written and read back at 4 KiB and at 2 KiB pages (WAL, synchronous = FULL),
three rounds: what smaller pages cost the largest file Duban accepts. An experiment's tool.

Usage: python3 blob.py   (writes b4096.db and b2048.db in the working directory)
"""
import sqlite3, os, time, statistics, sys
blob = os.urandom(20*1024*1024)
res = {}
for rnd in range(3):
    for ps in (4096, 2048):
        f = f"b{ps}.db"
        for s in ("", "-wal", "-shm"):
            if os.path.exists(f+s): os.remove(f+s)
        c = sqlite3.connect(f, isolation_level=None)
        c.execute(f"PRAGMA page_size = {ps}"); c.execute("PRAGMA journal_mode = WAL"); c.execute("PRAGMA synchronous = FULL")
        c.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, b BLOB)")
        t = time.perf_counter()
        c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO a (b) VALUES (?)", (blob,)); c.execute("COMMIT")
        w = time.perf_counter() - t
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close(); c = sqlite3.connect(f)
        t = time.perf_counter(); x = c.execute("SELECT b FROM a").fetchone()[0]; r = time.perf_counter() - t
        assert x == blob
        res.setdefault(ps, []).append((w, r))
for ps, v in res.items():
    print(ps, "write ms", [round(a*1000) for a, _ in v], "read ms", [round(b*1000, 1) for _, b in v])
