-- What each case counts for grew: the states it entered, the steps it took with the enum
-- values they chose, and its integer fields summed (duban_core::Milestones::reached, steps,
-- sums), which the report sections declared in the workflow files count. The figures kept
-- with each case were worked out before, so they are dropped here: `duban migrate` (or
-- `duban serve`) refolds every case from its events in this same transaction.
UPDATE cases SET figures = NULL;
