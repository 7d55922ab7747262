-- The department inbox's copies of a case's open flag and deadline now follow the case inside
-- the case's own UPDATE statement (`WITH u AS (UPDATE cases …), p AS (UPDATE case_parties …)`),
-- written only where they changed, as the trigger did. The trigger cost every action a PL/pgSQL
-- call, its statement prepared through SPI, and an after-trigger event queued and run at the
-- end of the statement: a tenth of the database's time under load. Nothing else changes.
DROP TRIGGER cases_inbox_copy ON cases;
DROP FUNCTION cases_inbox_copy();
