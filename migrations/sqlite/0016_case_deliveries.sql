-- What went out about a case (its page shows it to the committee): the deliveries and inbox
-- messages of one case, each one index range.
CREATE INDEX deliveries_case ON deliveries (case_id, created_at);
CREATE INDEX notifications_case ON notifications (case_id, created_at);
