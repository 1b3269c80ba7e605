-- Who answered a panic alert's Responding button (bot/dispatch/store.py), with the unit each had when pressing: the
-- alert's list is read from here, so it survives a restart and is the same whichever process renders it. One row
-- per member and panic: a second press by the same member changes nothing (the insert does nothing).
CREATE TABLE dispatch_panic_responders (
    panic_id TEXT NOT NULL REFERENCES dispatch_panics (id),
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    unit_id TEXT,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (panic_id, member_id)
);
