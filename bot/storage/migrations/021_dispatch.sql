-- Dispatch from Discord (bot/dispatch/). Times are epoch milliseconds, UTC.
-- The outbox: every write to Northca a person asked for (a call, ticket or scene report created with an id
-- the bot chose, or a panic), kept until Northca has answered. `state`: pending (due at next_ms), sent,
-- unconfirmed (a server error after an attempt that may have been applied: possibly written, never
-- re-created under a new id), failed (refused). `maybe_written`: an earlier attempt's answer was lost.
CREATE TABLE dispatch_outbox (
    id TEXT PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    mdt_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'ticket', 'report', 'panic')),
    body_json TEXT NOT NULL,
    actor_id INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'unconfirmed', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    maybe_written INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX dispatch_outbox_due ON dispatch_outbox (state, next_ms);
CREATE INDEX dispatch_outbox_by_guild ON dispatch_outbox (guild_id, kind, created_ms);
-- A call's local state: the card's source of truth. Every change takes the next `version`; the worker
-- sends the newest full state by PATCH and records it in `sent_version` (a later change supersedes).
CREATE TABLE dispatch_calls (
    id TEXT PRIMARY KEY REFERENCES dispatch_outbox (id),
    guild_id INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    classification TEXT NOT NULL,
    description TEXT NOT NULL,
    location TEXT NOT NULL,
    priority TEXT NOT NULL,
    call_type TEXT NOT NULL,
    status TEXT NOT NULL,
    units_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    sent_version INTEGER NOT NULL,
    patch_error TEXT,
    closed_by INTEGER,
    closed_ms INTEGER,
    channel_id INTEGER,
    message_id INTEGER,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX dispatch_calls_unsent ON dispatch_calls (sent_version, version);
-- A panic (10-33): its alert in Discord and whether it is still active.
CREATE TABLE dispatch_panics (
    id TEXT PRIMARY KEY REFERENCES dispatch_outbox (id),
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    unit_id TEXT NOT NULL,
    location TEXT,
    at_ms INTEGER NOT NULL,
    channel_id INTEGER,
    message_id INTEGER,
    cleared_by INTEGER,
    cleared_ms INTEGER
);
CREATE INDEX dispatch_panics_by_member ON dispatch_panics (guild_id, member_id, at_ms);
