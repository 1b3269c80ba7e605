-- Shifts whose write may have reached Northca but cannot be confirmed or ruled out.
-- When the write was first attempted: a lookup proves a shift absent only if it reaches back past this.
ALTER TABLE shifts ADD COLUMN first_attempt_ms INTEGER;
-- Set when the bot cannot decide whether Northca has the shift ("unconfirmed: check on Northca").
-- Such a shift is kept failed (never sent by itself) until a supervisor decides.
ALTER TABLE shifts ADD COLUMN unconfirmed_reason TEXT CHECK (unconfirmed_reason IS NULL OR sync_state IS 'failed');
-- The supervisor who chose "Send anyway": the next attempt writes even if the lookup cannot decide.
-- Cleared just before that write goes out, so it allows one write only.
ALTER TABLE shifts ADD COLUMN write_approved_by INTEGER;
-- Every supervisor decision about a shift: who, when, which shift, what.
CREATE TABLE shift_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    shift_id TEXT NOT NULL REFERENCES shifts (id),
    actor_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    detail TEXT
);
CREATE INDEX shift_audit_by_shift ON shift_audit (guild_id, shift_id, at_ms);
-- Shifts still to be sent when this ran may have been attempted before the column existed: their
-- end is the earliest moment a write can have happened, a safe stand-in for the first attempt.
UPDATE shifts SET first_attempt_ms = ended_ms WHERE sync_state IN ('pending', 'failed');
