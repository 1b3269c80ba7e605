-- Turns (bot/storage/turns.py): a transaction that reads, then inserts if nothing is in the way (a member's
-- overlapping leave, a server's template count), first updates its row here. On PostgreSQL the row stays
-- locked until that transaction ends, so a second transaction about the same thing waits, then reads what the
-- first one wrote; SQLite's write transactions take turns anyway (BEGIN IMMEDIATE). `taken` counts the turns.
CREATE TABLE write_turns (
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    taken INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, name)
);
