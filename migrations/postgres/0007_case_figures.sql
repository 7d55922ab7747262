-- What each case counts for in the year's figures (duban_core::Figures as compact JSON), kept
-- with every action, so that the annual report groups a year's cases by it in one index scan
-- instead of replaying every event. NULL until `duban migrate` has refolded a case written
-- before this column existed; the report replays such cases' events. The index carries the
-- columns the report reads, so the scan never visits the table.
ALTER TABLE cases ADD COLUMN figures TEXT;
CREATE INDEX cases_figures ON cases (kind, year, figures, updated_at, is_open, due_key);
