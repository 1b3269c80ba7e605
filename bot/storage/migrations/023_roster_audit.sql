-- Roster audit: every change to a server's scheduled shifts and their assignments, with who, when,
-- and the value before and after (as readable text). Kept per server. The id orders changes made in the
-- same millisecond (as settings_audit's does).
CREATE TABLE roster_audit (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    action TEXT NOT NULL,
    template_id INTEGER,
    old_text TEXT,
    new_text TEXT
);
CREATE INDEX roster_audit_by_guild ON roster_audit (guild_id, at_ms);
