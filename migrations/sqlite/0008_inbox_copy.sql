-- A department's inbox is one index range over its rows in case_parties, which carry copies of
-- the case's open flag and deadline. The copies follow the case here, inside the statement
-- that changes it, rather than in a statement of their own in every action: each statement
-- is a round trip to the database while the write lock is held. Only the department parties'
-- rows carry the copies (nothing else reads them), and only changes are written.
CREATE TRIGGER cases_inbox_copy AFTER UPDATE OF is_open, due_key ON cases
WHEN old.is_open <> new.is_open OR old.due_key <> new.due_key
BEGIN
    UPDATE case_parties SET is_open = new.is_open, due_key = new.due_key
    WHERE case_id = new.id AND party IN ('lead_department', 'co_departments');
END;
