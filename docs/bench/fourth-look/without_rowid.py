"""Rebuilds tables of a freshly migrated Duban SQLite database as WITHOUT ROWID tables, for a
bench run that measures whether keeping each row in its key's b-tree writes less.

Usage: python3 without_rowid.py DATABASE case_parties,reminders,case_events

Run it after `duban migrate --database-url sqlite://DATABASE?mode=rwc` and before
`duban bench --db sqlite://DATABASE?mode=rwc ...`: the bench then loads its cases into the
rebuilt tables. This is SQLite's documented rebuild (new table, copy, drop, rename, indexes and
triggers again), in one transaction. It is an experiment's tool, not a migration.
"""

import sqlite3
import sys


def rebuild(con, table):
    sql = con.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()[0]
    extras = [
        row[0]
        for row in con.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL",
            (table,),
        )
    ]
    new = sql.replace(f'CREATE TABLE {table}', f'CREATE TABLE new_{table}', 1)
    con.execute(new.rstrip() + ' WITHOUT ROWID')
    con.execute(f'INSERT INTO new_{table} SELECT * FROM {table}')
    con.execute(f'DROP TABLE {table}')
    con.execute(f'ALTER TABLE new_{table} RENAME TO {table}')
    for extra in extras:
        con.execute(extra)


def main(database, tables):
    con = sqlite3.connect(database, isolation_level=None)
    con.execute('PRAGMA foreign_keys = OFF')
    # Other tables' triggers name these tables; the legacy rename leaves them be.
    con.execute('PRAGMA legacy_alter_table = ON')
    con.execute('BEGIN')
    for table in tables:
        rebuild(con, table)
    con.execute('COMMIT')
    con.execute('PRAGMA foreign_keys = ON')
    print('integrity:', con.execute('PRAGMA integrity_check').fetchone()[0])


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2].split(','))
