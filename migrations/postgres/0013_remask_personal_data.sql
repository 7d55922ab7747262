-- Every person field is masked whatever its length: before, names of one character and
-- addresses of six or fewer were kept whole in the history. The schema does not change: the
-- migration runner masks every event's persons again (`remask::remask_events`), with the
-- append-only trigger lifted inside this migration only, and records that it ran in the audit log.
SELECT 1;
