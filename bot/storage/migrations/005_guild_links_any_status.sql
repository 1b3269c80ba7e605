-- Northca may answer a link request status the spec does not list yet (e.g. `in_review`).
-- The bot keeps and shows it (treated as not approved), so the status CHECK only asks for
-- short, non-empty text. SQLite cannot drop a CHECK: the table is rebuilt, rows kept.
CREATE TABLE guild_links_005 (
    guild_id INTEGER PRIMARY KEY,
    mdt_id TEXT NOT NULL,
    request_id TEXT,
    status TEXT NOT NULL CHECK (length(status) BETWEEN 1 AND 64),
    owner_discord_id INTEGER,
    requested_by INTEGER,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    checked_at TEXT
);
INSERT INTO guild_links_005 (guild_id, mdt_id, request_id, status, owner_discord_id, requested_by, expires_at,
    created_at, updated_at, checked_at)
    SELECT guild_id, mdt_id, request_id, status, owner_discord_id, requested_by, expires_at,
    created_at, updated_at, checked_at FROM guild_links;
DROP TABLE guild_links;
ALTER TABLE guild_links_005 RENAME TO guild_links;
