-- No query reads a case's events by time: the history is read in order of seq (the primary key)
-- and a case as it stood at a moment is folded from that history. The index on (case_id, at)
-- only cost every action one more index entry written, and the table its space.
DROP INDEX case_events_at;
