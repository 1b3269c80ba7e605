-- A member who said they cannot make a scheduled shift (the roster reminder's "Can't make it" button,
-- bot/rosters/store.py): one row per occurrence and member. The row is the claim: only the press that inserts it
-- tells the supervisors (a second press, a second process, a retried click change nothing).
CREATE TABLE roster_absences (
    guild_id INTEGER NOT NULL,
    template_id INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (template_id, start_ms, member_id)
);
CREATE INDEX roster_absences_by_guild ON roster_absences (guild_id, start_ms);
