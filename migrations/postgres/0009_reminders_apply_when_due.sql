-- Leaving a state no longer writes to its reminders. A reminder applies while its case is in
-- its state, its duty is owed and its deadline stands (`Case::reminder_applies`); the scheduler
-- checks that when one falls due and cancels it then. Cancelling eagerly cost every change of
-- state one row written per reminder of the state left, under the case's row lock, and another
-- on re-entering to bring each back; now a reminder that still applies on re-entry is left as
-- it is. Reminders already cancelled stay cancelled; nothing else changes.
DROP TRIGGER cases_state_left ON cases;
DROP FUNCTION cases_state_left();
