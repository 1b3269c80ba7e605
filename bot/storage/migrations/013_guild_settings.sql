-- Per-guild settings: one row per setting a guild changed from the config-file default (value as JSON),
-- the audit of every change, and the guild's presence (left_at_ms: when the bot left; its data is kept
-- for [settings] retention_days, then purged; rejoining clears it). Times are epoch milliseconds (UTC).
CREATE TABLE guild_settings (
    guild_id INTEGER NOT NULL,
    setting_key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    updated_by INTEGER NOT NULL,
    PRIMARY KEY (guild_id, setting_key)
);

CREATE TABLE settings_audit (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    setting_key TEXT NOT NULL,
    old_json TEXT,
    new_json TEXT
);
CREATE INDEX settings_audit_by_guild ON settings_audit (guild_id, at_ms, id);

CREATE TABLE guild_presence (
    guild_id INTEGER PRIMARY KEY,
    left_at_ms INTEGER
);
CREATE INDEX guild_presence_left ON guild_presence (left_at_ms);
