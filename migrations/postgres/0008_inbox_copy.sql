-- A department's inbox is one index range over its rows in case_parties, which carry copies of
-- the case's open flag and deadline. The copies follow the case here, inside the statement
-- that changes it, rather than in a statement of their own in every action: each statement
-- is a round trip to the database while the row locks are held. Only the department parties'
-- rows carry the copies (nothing else reads them), and only changes are written.
CREATE FUNCTION cases_inbox_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_parties SET is_open = NEW.is_open, due_key = NEW.due_key
    WHERE case_id = NEW.id AND party IN ('lead_department', 'co_departments');
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_inbox_copy AFTER UPDATE OF is_open, due_key ON cases
FOR EACH ROW WHEN (OLD.is_open <> NEW.is_open OR OLD.due_key <> NEW.due_key)
EXECUTE FUNCTION cases_inbox_copy();
