-- What an officer tells the bot about themselves, per guild (/profile set).
CREATE TABLE officer_profiles (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    callsign TEXT,
    badge TEXT,
    rank TEXT,
    department TEXT,
    name TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, member_id)
);
-- A callsign is a unit id on Northca: one officer per callsign in a guild.
CREATE UNIQUE INDEX officer_profiles_callsign ON officer_profiles (guild_id, callsign) WHERE callsign IS NOT NULL;
