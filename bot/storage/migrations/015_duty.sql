-- Duty management (bot/duty/). Times are epoch milliseconds, UTC.
-- Time adjustments: each one its own audited record. Adjustments are local: Northca has no
-- endpoint to change a written shift. add/subtract count in the period holding at_ms; a void
-- keeps the shift and excludes it from every total (one void per shift).
CREATE TABLE duty_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('add', 'subtract', 'void')),
    amount_ms INTEGER NOT NULL CHECK (amount_ms >= 0),
    shift_id TEXT REFERENCES shifts (id),
    reason TEXT NOT NULL,
    actor_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    CHECK ((kind = 'void') = (shift_id IS NOT NULL))
);
CREATE INDEX duty_adjustments_by_guild_time ON duty_adjustments (guild_id, at_ms, member_id, kind, amount_ms);
CREATE INDEX duty_adjustments_by_member ON duty_adjustments (guild_id, member_id, at_ms);
CREATE UNIQUE INDEX duty_adjustments_one_void ON duty_adjustments (shift_id) WHERE kind = 'void';
CREATE INDEX duty_adjustments_voids_by_guild ON duty_adjustments (guild_id, shift_id) WHERE kind = 'void';
-- Each break's interval, written by the break toggle, so a shift split at a period boundary
-- puts each break on its own side. ended_ms NULL: still on break, or closed by the shift's end.
-- Shifts from before this table (fewer rows than break_count) are split proportionally.
CREATE TABLE shift_breaks (
    shift_id TEXT NOT NULL REFERENCES shifts (id),
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    PRIMARY KEY (shift_id, started_ms)
);
-- Periods: shifts of a guild by start (covering what the totals read) and by end (crossing shifts).
CREATE INDEX shifts_by_guild_start ON shifts (guild_id, started_ms, ended_ms, member_id, duration_ms, department);
CREATE INDEX shifts_by_guild_end ON shifts (guild_id, ended_ms, started_ms);
-- All time: every ended shift of a guild, already grouped by member (no sort of the whole guild).
CREATE INDEX shifts_by_guild_member_duty ON shifts (guild_id, member_id, ended_ms, duration_ms, department);
-- Activity reports: one row per guild and period, claimed before posting so it is posted once
-- across restarts. posted_at_ms NULL: claimed, not yet posted (claim again after the lease).
CREATE TABLE activity_reports (
    guild_id INTEGER NOT NULL,
    period_start_ms INTEGER NOT NULL,
    period_end_ms INTEGER NOT NULL,
    claimed_at_ms INTEGER NOT NULL,
    posted_at_ms INTEGER,
    channel_id INTEGER,
    message_id INTEGER,
    PRIMARY KEY (guild_id, period_start_ms)
);
