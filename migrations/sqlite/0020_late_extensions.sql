-- An extension approved after the deadline had passed no longer makes the answer that follows
-- count as on time (duban_core::Milestones::extended_late). The figures kept with each case
-- were worked out under the old rule, so they are dropped here: until `duban migrate` (or
-- `duban serve`) has refolded every case from its events in this same transaction, the report
-- would replay a case whose figures are NULL.
UPDATE cases SET figures = NULL;
