-- The last status of every officer, per guild (/status). It is what the panels show and
-- what Northca's active-units board must end up with. `version` grows with every change
-- (one sequence for the whole bot); `synced_version` is the newest version Northca
-- acknowledged, so `synced_version < version` means "still to send" (after a restart or an outage).
CREATE TABLE unit_status (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    mdt_id TEXT NOT NULL,
    -- The unit id on Northca (the callsign when the status was set).
    callsign TEXT NOT NULL,
    status TEXT NOT NULL,
    officer_name TEXT NOT NULL,
    officer_badge TEXT,
    department TEXT,
    rank TEXT,
    version INTEGER NOT NULL CHECK (version > 0),
    synced_version INTEGER NOT NULL DEFAULT 0,
    updated_ms INTEGER NOT NULL,
    -- Who made the change (the officer, or another member for the duty listener: NULL).
    actor_id INTEGER,
    PRIMARY KEY (guild_id, member_id)
);
CREATE INDEX unit_status_unsynced ON unit_status (guild_id) WHERE synced_version < version;
CREATE INDEX unit_status_version ON unit_status (version);
-- Public panels posted with /status panel: re-rendered when statuses change, and after a restart.
CREATE TABLE status_panels (
    message_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    created_by INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE INDEX status_panels_guild ON status_panels (guild_id, created_ms);
