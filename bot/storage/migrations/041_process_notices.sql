-- What one process tells the bot's processes (bot/notices.py): the dashboard run as its own process
-- (`northca-bot web`) changes settings there; the bot process owning the server takes each notice once
-- (DELETE ... RETURNING) and publishes it on its own hub, so Discord shows the change at once (the shift-log
-- line, the status panels). body: JSON of the topic.
CREATE TABLE process_notices (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX process_notices_by_guild ON process_notices (guild_id, id);
