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

-- Leaving a state cancels the reminders still pending for it: the state machine's first effect
-- on every change of state. Done here, inside the same UPDATE, for the same reason; the store
-- does not send that effect again (`apply_effects`). A duty's reminders, cancelled when the
-- duty is done without a change of state, are still cancelled by a statement of their own.
CREATE FUNCTION cases_state_left() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reminders SET status = 'cancelled'
    WHERE case_id = NEW.id AND state = OLD.state AND status = 'pending';
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_state_left AFTER UPDATE OF state ON cases
FOR EACH ROW WHEN (OLD.state <> NEW.state)
EXECUTE FUNCTION cases_state_left();
