-- When each member's newest panic was recorded (bot/dispatch/store.py). A panic is recorded only after this row
-- moved forward, and it moves only when the cooldown since the previous panic has passed (one conditional
-- upsert): presses at the same moment, in one process or several, cannot both pass it. On PostgreSQL the
-- upsert waits on the row another transaction is moving and then sees its new time.
CREATE TABLE dispatch_panic_gates (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, member_id)
);
INSERT INTO dispatch_panic_gates (guild_id, member_id, last_ms)
    SELECT guild_id, member_id, MAX(at_ms) FROM dispatch_panics GROUP BY guild_id, member_id;
