-- Unit status across several processes on one database (bot/unit_status/store.py, order.py).
-- Counters several processes take numbers from, in one conditional upsert each: 'unit_status' is the last
-- unit-status version handed out (a change's version is taken from here when sharded, so versions follow the
-- order in which changes reach the database, whatever each process's clock says). No row until first used.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
-- The newest version of each unit (callsign) of an MDT that Northca acknowledged, from any process: a request
-- never carries a unit at a version at or below it, so an older state never lands after a newer one.
CREATE TABLE unit_status_sent (
    mdt_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (mdt_id, unit_id)
);
-- The newest stored record of a unit id in an MDT (whichever server of the MDT it belongs to), read before a send.
CREATE INDEX unit_status_mdt_unit ON unit_status (mdt_id, callsign, version);
-- Whose turn it is to send an MDT's units to Northca (bot/unit_status/order.py): the holder bumps `beat` while
-- its request is out; another sender takes the turn over when it is free (holder NULL) or when it has seen the same
-- holder and beat for a whole lease time of its own clock (the holder died). No clock is compared across processes.
CREATE TABLE unit_status_turns (
    name TEXT PRIMARY KEY,
    holder TEXT,
    beat INTEGER NOT NULL
);
