-- The annual report's per-deputy satisfaction: every rating a deputy gave on a case (who, the
-- value, and whether it was a co-signer's), kept with the case as it acts, as JSON. NULL for a
-- case no deputy has rated. A partial covering index over the rated cases alone serves the
-- report's one grouped scan of them, beside the figure groups' own. Cases written before are
-- refolded from their events by the migration runner.
ALTER TABLE cases ADD COLUMN raters TEXT;
CREATE INDEX cases_raters ON cases (kind, year, raters, updated_at) WHERE raters IS NOT NULL;
