-- A shift may end because its member left the ER:LC game for longer than the server's gamelock grace
-- (end_reason 'left_game', bot/erlc/gamelock.py). SQLite cannot change a CHECK: the table is rebuilt under the
-- same name, rows kept. Its children (shift_audit, shift_breaks, duty_adjustments) reference it by name; with
-- foreign keys deferred, dropping it counts their rows as orphans and putting the rows back clears the count.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE shifts_034_copy AS SELECT * FROM shifts;
DROP TABLE shifts;
CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    mdt_id TEXT NOT NULL,
    officer_name TEXT NOT NULL,
    officer_badge TEXT,
    department TEXT,
    callsign TEXT,
    started_ms INTEGER NOT NULL,
    break_started_ms INTEGER,
    break_ms INTEGER NOT NULL DEFAULT 0 CHECK (break_ms >= 0),
    break_count INTEGER NOT NULL DEFAULT 0,
    ended_ms INTEGER,
    duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    end_reason TEXT CHECK (
        end_reason IS NULL OR end_reason IN ('member', 'admin', 'auto', 'left', 'bot_removed', 'left_game')
    ),
    ended_by INTEGER,
    end_note TEXT,
    status TEXT,
    sync_state TEXT CHECK (sync_state IS NULL OR sync_state IN ('pending', 'synced', 'failed')),
    sync_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,
    attempt_started_ms INTEGER,
    last_attempt_ms INTEGER,
    sent_unconfirmed INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    synced_ms INTEGER,
    first_attempt_ms INTEGER,
    unconfirmed_reason TEXT CHECK (unconfirmed_reason IS NULL OR sync_state IS 'failed'),
    write_approved_by INTEGER,
    CHECK ((ended_ms IS NULL) = (sync_state IS NULL)),
    CHECK ((ended_ms IS NULL) = (duration_ms IS NULL))
);
INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, officer_badge, department, callsign, started_ms, break_started_ms, break_ms, break_count, ended_ms, duration_ms, end_reason, ended_by, end_note, status, sync_state, sync_attempts, next_attempt_ms, attempt_started_ms, last_attempt_ms, sent_unconfirmed, last_error, synced_ms, first_attempt_ms, unconfirmed_reason, write_approved_by)
    SELECT id, guild_id, member_id, mdt_id, officer_name, officer_badge, department, callsign, started_ms, break_started_ms, break_ms, break_count, ended_ms, duration_ms, end_reason, ended_by, end_note, status, sync_state, sync_attempts, next_attempt_ms, attempt_started_ms, last_attempt_ms, sent_unconfirmed, last_error, synced_ms, first_attempt_ms, unconfirmed_reason, write_approved_by FROM shifts_034_copy;
DROP TABLE shifts_034_copy;
CREATE UNIQUE INDEX shifts_one_open_per_member ON shifts (guild_id, member_id) WHERE ended_ms IS NULL;
CREATE INDEX shifts_outbox ON shifts (sync_state, next_attempt_ms) WHERE sync_state IN ('pending', 'failed');
CREATE INDEX shifts_by_member ON shifts (guild_id, member_id, started_ms);
CREATE INDEX shifts_open_by_start ON shifts (started_ms) WHERE ended_ms IS NULL;
CREATE INDEX shifts_by_guild_start ON shifts (guild_id, started_ms, ended_ms, member_id, duration_ms, department);
CREATE INDEX shifts_by_guild_end ON shifts (guild_id, ended_ms, started_ms);
CREATE INDEX shifts_by_guild_member_duty ON shifts (guild_id, member_id, ended_ms, duration_ms, department);
