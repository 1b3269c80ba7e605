-- Short per-server numbers people read instead of ids (issue 25, point 6): Call #12, Ticket #5, LOA #27.
-- guild_numbers: the last number given per (server, kind); the next one is taken by one upsert that adds 1 and
-- returns it, inside the transaction that inserts the record (bot/storage/numbers.py). On PostgreSQL the row
-- stays locked until that transaction ends, so two processes numbering at once get different numbers; SQLite's
-- write transactions take turns. Kinds: the outbox kinds ('call', 'ticket', 'report', 'panic') and 'leave'.
CREATE TABLE guild_numbers (
    guild_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (guild_id, kind)
);
ALTER TABLE dispatch_outbox ADD COLUMN number INTEGER;
ALTER TABLE leaves ADD COLUMN number INTEGER;
-- Existing rows numbered in the order they were made, per server and kind (ties by id).
UPDATE dispatch_outbox SET number = (
    SELECT COUNT(*) FROM dispatch_outbox AS o
    WHERE o.guild_id = dispatch_outbox.guild_id AND o.kind = dispatch_outbox.kind
      AND (o.created_ms < dispatch_outbox.created_ms OR (o.created_ms = dispatch_outbox.created_ms AND o.id <= dispatch_outbox.id))
);
UPDATE leaves SET number = (
    SELECT COUNT(*) FROM leaves AS o
    WHERE o.guild_id = leaves.guild_id
      AND (o.requested_ms < leaves.requested_ms OR (o.requested_ms = leaves.requested_ms AND o.id <= leaves.id))
);
INSERT INTO guild_numbers (guild_id, kind, last_number)
    SELECT guild_id, kind, MAX(number) FROM dispatch_outbox GROUP BY guild_id, kind;
INSERT INTO guild_numbers (guild_id, kind, last_number)
    SELECT guild_id, 'leave', MAX(number) FROM leaves GROUP BY guild_id;
CREATE UNIQUE INDEX dispatch_outbox_number ON dispatch_outbox (guild_id, kind, number);
CREATE UNIQUE INDEX leaves_number ON leaves (guild_id, number);
