-- A list over a party's rows (a department's open items, a deputy's or a department's cases,
-- what waits on a person) is counted from those rows alone, without reading the cases. The
-- count tests each row's party, so the member indexes carry it, last (SQLite has no INCLUDE):
-- the count is then read from the index alone, and the lists keep their order.
DROP INDEX case_parties_member;
CREATE INDEX case_parties_member ON case_parties (member, filed_at, case_id, party);
DROP INDEX case_parties_open;
CREATE INDEX case_parties_open ON case_parties (member, due_key, case_id, party) WHERE is_open = 1;
