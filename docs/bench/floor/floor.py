"""The floor of SQLite's own work for the bench's action: the statements the engine sends for
one transition, run straight through Python's sqlite3 (SQLite's C library, each statement
prepared once), in groups of G writes, each in its savepoint, then one COMMIT. WAL,
synchronous = FULL, as the store's connections are. No read, no decision, no driver thread:
what is left is SQLite's work and the disk's.

Usage: python3 floor.py [--page-size N] DATABASE G SECONDS [VARIANTS]
       python3 floor.py [--page-size N] --commit-limit SECONDS

DATABASE is a copy of the database `duban bench --only transitions` leaves behind (its `e-`
cases are acted on). The copy is taken afresh for every run, so each run starts from the same
file. VARIANTS, comma-separated, leave parts of today's action out, to price each:

- inplace:  the `awaiting` party's member rewritten in place, instead of its row deleted and
            another inserted;
- noparty:  no `awaiting` party written at all;
- nofig:    without the `cases_figures` index (the annual report's);
- nocopy:   without the inbox copies (the `cases_inbox_copy` trigger and `case_parties_open`);
- nodue:    without the `cases_open_due` index (the overdue list's);
- norem:    no reminders written;
- onesave:  one savepoint for the whole group instead of one a write;
- nosave:   no savepoint at all.

Prints, per write: the frames it added to the log (4 KiB pages), the script's time and its
share of the COMMIT's, and the writes a second that one thread reaches. Automatic checkpoints
are off, so that none lands on the writer (the engine runs them beside it).

`--commit-limit` measures the same day's commit limit the same way (one single-row UPDATE a
transaction, one connection), beside `duban bench`'s own, which goes through sqlx.

`--page-size N` rebuilds the copy (and the commit limit's file) with pages of N bytes first,
to price the page size: a write's frames are whole pages, so smaller pages write fewer bytes
for the same rows changed.

It is an experiment's tool, not part of Duban.
"""

import os
import random
import shutil
import sqlite3
import statistics
import sys
import time

DROPS = {
    "nofig": ["DROP INDEX cases_figures"],
    "nocopy": ["DROP TRIGGER cases_inbox_copy", "DROP INDEX case_parties_open"],
    "nodue": ["DROP INDEX cases_open_due"],
}
PAGE_SIZE = None  # set by --page-size; None keeps the copy's own


def fresh_copy(source, target="floor.db"):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(target + suffix):
            os.remove(target + suffix)
    shutil.copy(source, target)
    if PAGE_SIZE:
        # A page size can only change outside WAL, and takes effect at the VACUUM.
        con = sqlite3.connect(target, isolation_level=None)
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        con.execute("VACUUM")
        con.close()
    return target


def commit_limit(secs):
    con = sqlite3.connect(fresh_copy(os.devnull, "limit.db"), isolation_level=None)
    if PAGE_SIZE:
        con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    con.execute("INSERT INTO t VALUES (1, 0)")
    commits, started = 0, time.time()
    while time.time() - started < secs:
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE t SET n = n + 1 WHERE id = 1")
        con.execute("COMMIT")
        commits += 1
    print(f"commit limit: {commits / (time.time() - started):.0f} commits/s")


def main():
    global PAGE_SIZE
    if sys.argv[1] == "--page-size":
        PAGE_SIZE = int(sys.argv[2])
        del sys.argv[1:3]
    if sys.argv[1] == "--commit-limit":
        return commit_limit(float(sys.argv[2]))
    source, group, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    variants = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else set()
    path = fresh_copy(source)
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "wal_autocheckpoint = 0",
                   "temp_store = MEMORY", "mmap_size = 268435456"):
        con.execute("PRAGMA " + pragma)
    for v in variants:
        for ddl in DROPS.get(v, []):
            con.execute(ddl)
    version = {r[0]: (r[1], r[2]) for r in
               con.execute("SELECT id, version, state FROM cases WHERE id LIKE 'e-%'")}
    ids = list(version)
    sample = ids[0]
    projection, figures = con.execute(
        "SELECT projection, figures FROM cases WHERE id = ?", (sample,)).fetchone()
    detail = con.execute(
        "SELECT detail FROM case_events WHERE case_id = ? ORDER BY seq DESC LIMIT 1",
        (sample,)).fetchone()[0]
    now = 1796659104962
    scripts, commits, written = [], [], 0
    stop = time.time() + secs
    started = time.time()
    while time.time() < stop:
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        if "onesave" in variants:
            con.execute("SAVEPOINT member")
        for case in random.sample(ids, group):
            v, state = version[case]
            asked = state == "reassignment_requested"
            to = "assigned" if asked else "reassignment_requested"
            member = "jtj" if asked else "bench-staff"
            now += 1
            if not variants & {"onesave", "nosave"}:
                con.execute("SAVEPOINT member")
            changed = con.execute(
                "UPDATE cases SET state = ?, version = ?, is_open = 1, is_key = 0, "
                "entered_at = ?, due_key = ?, due_date = ?, supervisor = NULL, projection = ?, "
                "updated_at = ?, figures = ?, raters = NULL WHERE id = ? AND version = ?",
                (to, v + 1, now, 1804521600000 - (0 if asked else 7000000000), "2027-03-08",
                 projection, now, figures, case, v)).rowcount
            assert changed == 1
            con.execute(
                "INSERT INTO case_events (case_id, seq, action, actor, actor_role, actor_org, "
                "on_behalf_of, at, from_state, to_state, payload, detail, request_id) "
                "VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, NULL)",
                (case, v + 1, "keep_assignment" if asked else "request_reassignment",
                 "bench-staff", "staff", now, state, to, '{"reason":"基准测试"}', detail))
            if "inplace" in variants:
                con.execute("UPDATE case_parties SET member = ? "
                            "WHERE case_id = ? AND party = 'awaiting'", (member, case))
            elif "noparty" not in variants:
                con.execute("DELETE FROM case_parties WHERE case_id = ? AND party = 'awaiting'",
                            (case,))
                con.execute(
                    "INSERT INTO case_parties (case_id, party, member, is_open, due_key, "
                    "filed_at) VALUES (?, 'awaiting', ?, 1, 1804521600000, 1796486304962) "
                    "ON CONFLICT (case_id, party, member) DO NOTHING", (case, member))
            if "norem" not in variants:
                rows = []
                for k in range(3 if asked else 2):
                    rows += [case, f"{to}/-/{k}/{v}", to, "", k, now + 86400000 * (k + 1),
                             "2027-03-08", '["lead_department"]', None, 0, "pending", now, None]
                con.execute(
                    "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, "
                    "due_date, notify, repeat_every_days, escalate, status, created_at, "
                    "headline) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * (len(rows) // 13))
                    + " ON CONFLICT (case_id, reminder_key) DO UPDATE SET status = 'pending', "
                    "fire_at = excluded.fire_at WHERE reminders.status = 'cancelled'", rows)
            version[case] = (v + 1, to)
        t1 = time.perf_counter()
        con.execute("COMMIT")
        t2 = time.perf_counter()
        scripts.append((t1 - t0) / group * 1e6)
        commits.append((t2 - t1) * 1e6)
        written += group
    rate = written / (time.time() - started)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    frames = os.path.getsize(path + "-wal") / (page + 24) / written
    commit = statistics.median(commits)
    print(f"variants {','.join(sorted(variants)) or 'none'}, {group} a group: "
          f"{page} B pages, {frames:.1f} frames a write; script {statistics.median(scripts):.0f} µs a write; "
          f"COMMIT {commit:.0f} µs ({commit / group:.0f} µs a write); {rate:.0f} writes/s")


if __name__ == "__main__":
    main()
