-- ER:LC (issue 22): each server's connected private server (its key encrypted at rest), who is in game now,
-- the append-only presence history, Discord member <-> Roblox account links, verification codes, webhook
-- events (de-duplicated), in-game emergency calls and the live status boards. Times are epoch ms (UTC).
CREATE TABLE erlc_servers (
    guild_id INTEGER PRIMARY KEY,
    -- Fernet token of the server key (bot/erlc/keys.py); NULL once disconnected (the key is forgotten).
    key_cipher TEXT,
    state TEXT NOT NULL CHECK (state IN ('connected', 'disconnected')),
    -- Why it was disconnected: 'admin' (/erlc disconnect), 'key_invalid' (PRC 2002 on a poll).
    disconnected_reason TEXT,
    server_name TEXT NOT NULL DEFAULT '',
    owner_id INTEGER,
    connected_by INTEGER NOT NULL,
    connected_ms INTEGER NOT NULL,
    last_poll_ms INTEGER,
    last_ok_ms INTEGER,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    current_players INTEGER NOT NULL DEFAULT 0,
    max_players INTEGER NOT NULL DEFAULT 0,
    queue_count INTEGER NOT NULL DEFAULT 0,
    -- The unguessable part of the server's webhook URL (rotatable).
    webhook_token TEXT NOT NULL,
    -- Bumped by each poll claim: a poll writes only while its claim is the newest (two pollers never both do).
    poll_claim INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX erlc_servers_webhook ON erlc_servers (webhook_token);

CREATE TABLE erlc_presence (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    team TEXT NOT NULL,
    callsign TEXT,
    permission TEXT NOT NULL,
    since_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE erlc_presence_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('join', 'leave', 'team', 'callsign')),
    team TEXT NOT NULL,
    callsign TEXT,
    at_ms INTEGER NOT NULL
);
CREATE INDEX erlc_presence_history_user ON erlc_presence_history (guild_id, user_id, at_ms);
CREATE INDEX erlc_presence_history_time ON erlc_presence_history (guild_id, at_ms);

CREATE TABLE erlc_links (
    guild_id INTEGER NOT NULL,
    discord_id INTEGER NOT NULL,
    roblox_id INTEGER NOT NULL,
    roblox_name TEXT,
    how TEXT NOT NULL CHECK (how IN ('callsign', 'command', 'staff', 'import')),
    linked_by INTEGER NOT NULL,
    linked_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, discord_id)
);
-- A Roblox account is linked to at most one member per server.
CREATE UNIQUE INDEX erlc_links_roblox ON erlc_links (guild_id, roblox_id);

CREATE TABLE erlc_verify_codes (
    guild_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    discord_id INTEGER NOT NULL,
    -- The Roblox name the member said is theirs (lower case), if any: only that player's code counts.
    roblox_name TEXT,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms INTEGER,
    PRIMARY KEY (guild_id, code)
);
CREATE INDEX erlc_verify_codes_member ON erlc_verify_codes (guild_id, discord_id);

CREATE TABLE erlc_webhook_events (
    guild_id INTEGER NOT NULL,
    event_key TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, event_key)
);
CREATE INDEX erlc_webhook_events_time ON erlc_webhook_events (received_ms);

CREATE TABLE erlc_emergency_calls (
    guild_id INTEGER NOT NULL,
    call_number INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    team TEXT NOT NULL,
    caller_id INTEGER,
    description TEXT,
    location TEXT,
    players_json TEXT NOT NULL DEFAULT '[]',
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, call_number, started_at_ms)
);

CREATE TABLE erlc_boards (
    guild_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    rendered_ms INTEGER NOT NULL DEFAULT 0
);
