-- When a guild's data was deleted (/settings delete-data, or the retention purge), so other processes on this
-- database drop it from their settings caches (bot/settings/watch.py: the deletion removed the audit rows a
-- change is otherwise seen by). Only the guild id and the time; pruned a day later by the retention purge.
CREATE TABLE guild_data_deletions (
    guild_id INTEGER NOT NULL,
    deleted_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id)
);
CREATE INDEX guild_data_deletions_by_time ON guild_data_deletions (deleted_ms);
