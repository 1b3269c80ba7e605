-- The shift sync worker's claim (ShiftStore.claim_due) and its next wake-up (next_due_ms) ask for
-- `sync_state = 'pending'`. SQLite uses a partial index only when the query's WHERE contains the index's own
-- condition, so shifts_outbox (`sync_state IN ('pending', 'failed')`, kept for the supervisors' lists and
-- counts, which ask exactly that) was never used for them: every claim read the whole shifts table and sorted
-- what was due. This index has the worker's condition: a claim reads only the shifts waiting to be sent.
CREATE INDEX shifts_due ON shifts (next_attempt_ms) WHERE sync_state = 'pending';
