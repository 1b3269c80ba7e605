-- Shifts. An open shift has ended_ms NULL. An ended shift is also the outbox entry
-- that the background sync writes to Northca, once, under the id chosen at start.
-- Times are milliseconds since the Unix epoch, UTC.
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
    -- Set while on a break. Closed breaks are summed in break_ms.
    break_started_ms INTEGER,
    break_ms INTEGER NOT NULL DEFAULT 0 CHECK (break_ms >= 0),
    break_count INTEGER NOT NULL DEFAULT 0,
    ended_ms INTEGER,
    -- On-duty time: ended - started - breaks.
    duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    end_reason TEXT CHECK (end_reason IS NULL OR end_reason IN ('member', 'admin', 'auto', 'left', 'bot_removed')),
    ended_by INTEGER,
    end_note TEXT,
    -- The status written to Northca (shifts.end_status when it ended).
    status TEXT,
    -- NULL while open. Then pending (awaiting sync), synced, or failed (refused for good, until retried).
    sync_state TEXT CHECK (sync_state IS NULL OR sync_state IN ('pending', 'synced', 'failed')),
    sync_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,
    -- Set while a write is out. Still set after a crash, which makes the next attempt look first.
    attempt_started_ms INTEGER,
    last_attempt_ms INTEGER,
    -- 1 once any attempt may have reached Northca: every later attempt looks the id up before writing.
    sent_unconfirmed INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    synced_ms INTEGER,
    CHECK ((ended_ms IS NULL) = (sync_state IS NULL)),
    CHECK ((ended_ms IS NULL) = (duration_ms IS NULL))
);
-- One open shift per member per guild, enforced here and not only in code.
CREATE UNIQUE INDEX shifts_one_open_per_member ON shifts (guild_id, member_id) WHERE ended_ms IS NULL;
CREATE INDEX shifts_outbox ON shifts (sync_state, next_attempt_ms) WHERE sync_state IN ('pending', 'failed');
CREATE INDEX shifts_by_member ON shifts (guild_id, member_id, started_ms);
CREATE INDEX shifts_open_by_start ON shifts (started_ms) WHERE ended_ms IS NULL;
