-- In-game emergency calls relayed to the CAD (issue 23, point 8): one row per (guild, in-game call number,
-- started at), inserted in the same transaction as the Northca call's outbox entry, so a call seen again (a later
-- poll, the webhook, another process, a restart) is never created twice. `call_id` is the dispatch call
-- (dispatch_calls.id), NULL when the call was skipped (`outcome` says why: the server was not linked to an MDT).
CREATE TABLE dispatch_game_calls (
    guild_id INTEGER NOT NULL,
    call_number INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    call_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('created', 'not_linked')),
    seen_ms INTEGER NOT NULL,
    -- Set once when the game said the call ended and the CAD call was closed for it.
    ended_ms INTEGER,
    -- Set once by the process that posts the call's card in the dispatch channel (a claim: one card of all
    -- processes; a call created by a process that died before posting gets its card at the next start).
    card_ms INTEGER,
    PRIMARY KEY (guild_id, call_number, started_at_ms)
);
