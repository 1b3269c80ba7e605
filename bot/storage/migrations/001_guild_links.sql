-- A guild's link to a Northca MDT, as requested with /link and approved by the MDT owner.
CREATE TABLE guild_links (
    guild_id INTEGER PRIMARY KEY,
    mdt_id TEXT NOT NULL,
    request_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    owner_discord_id INTEGER,
    requested_by INTEGER,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    checked_at TEXT
);
