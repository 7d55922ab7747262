-- What each case counts for changed: an extension approved after the deadline had passed no
-- longer makes the answer that follows count as on time (duban_core::Milestones::extended_late),
-- and the days from assignment to the first answer are kept (days_to_answer, for the report's
-- median and 90th percentile). The figures kept with each case were worked out before, so they
-- are dropped here: `duban migrate` (or `duban serve`) refolds every case from its events in
-- this same transaction; until a case is refolded the report would replay it.
UPDATE cases SET figures = NULL;
