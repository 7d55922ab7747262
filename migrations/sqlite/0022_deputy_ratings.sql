-- The annual report's per-deputy satisfaction: every rating a deputy gave on a case (who, the
-- value, and whether it was a co-signer's), kept with the case as it acts, as JSON. NULL for a
-- case no deputy has rated, so the report reads only the rated ones. Cases written before are
-- refolded from their events by the migration runner.
ALTER TABLE cases ADD COLUMN raters TEXT;
