-- Rosters: scheduled shift templates (the occurrences are computed from them, never stored),
-- who is assigned to each (a member or a role), and the reminders already claimed.
-- Times are milliseconds since the Unix epoch, UTC; dates are ISO text (YYYY-MM-DD) in the guild's zone.
CREATE TABLE roster_templates (
    -- AUTOINCREMENT: an id is never reused, so a new template never inherits a deleted one's reminder claims.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    department TEXT,
    -- Minutes after local midnight (as in the shift-template API the feature follows).
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    -- Bit 0 = Monday ... bit 6 = Sunday; 127 = every day.
    days_mask INTEGER NOT NULL DEFAULT 127 CHECK (days_mask BETWEEN 1 AND 127),
    valid_from TEXT,
    valid_until TEXT,
    created_by INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_until >= valid_from)
);
-- Names are unique per server regardless of case (people pick a shift by its name).
CREATE UNIQUE INDEX roster_templates_name ON roster_templates (guild_id, LOWER(name));
CREATE TABLE roster_assignments (
    template_id INTEGER NOT NULL REFERENCES roster_templates (id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('member', 'role')),
    target_id INTEGER NOT NULL,
    assigned_by INTEGER NOT NULL,
    assigned_ms INTEGER NOT NULL,
    PRIMARY KEY (template_id, target_kind, target_id)
);
-- One row per reminder ever claimed: the unique key makes a reminder go out at most once,
-- also across restarts (claimed before it is sent).
CREATE TABLE roster_reminders_sent (
    template_id INTEGER NOT NULL,
    occurrence_start_ms INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    claimed_ms INTEGER NOT NULL,
    PRIMARY KEY (template_id, occurrence_start_ms, member_id)
);
