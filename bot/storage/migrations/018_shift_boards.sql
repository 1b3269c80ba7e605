-- "On duty now" boards (/shift board): one per channel of a guild, the message the bot keeps up to
-- date. Stored so the boards are re-rendered after a restart. Times are epoch milliseconds (UTC).
CREATE TABLE shift_boards (
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    created_by INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);
