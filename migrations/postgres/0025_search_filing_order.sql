-- A search over every case, in the order of filing, chooses its page among the search's own
-- rows and reads only the page's cases. So each row keeps its case's filing time (which never
-- changes). Before, every case the words found was read to be sorted: a thousand, for two
-- common characters, at 1,000,000 cases.
ALTER TABLE case_search ADD COLUMN filed_at BIGINT;
UPDATE case_search SET filed_at = c.filed_at FROM cases c WHERE c.id = case_search.case_id;
ALTER TABLE case_search ALTER COLUMN filed_at SET NOT NULL;
