-- Nothing changes on SQLite. PostgreSQL's inbox-copy trigger gives way, in this migration, to
-- a part of the case's own UPDATE statement; SQLite has no statement that writes two tables,
-- and its trigger (migration 8) runs in-process, where a statement costs no round trip.
SELECT 1;
