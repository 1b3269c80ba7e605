-- Leave of absence (bot/leave/). Times are epoch milliseconds, UTC; [start_ms, end_ms) is the leave.
-- status: pending (asked), approved, denied. Ending an approved leave early moves end_ms to the
-- time it was ended (ended_by, ended_ms say who and when; planned_end_ms keeps what was asked).
-- role_given_ms / role_removed_ms: the on-leave role's give and removal, each claimed once
-- (a conditional UPDATE) so it happens exactly once across restarts, late if the bot was down.
CREATE TABLE leaves (
    id TEXT PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    planned_end_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    requested_ms INTEGER NOT NULL,
    decided_by INTEGER,
    decided_ms INTEGER,
    ended_by INTEGER,
    ended_ms INTEGER,
    role_given_ms INTEGER,
    role_removed_ms INTEGER
);
CREATE INDEX leaves_by_guild_member ON leaves (guild_id, member_id, end_ms);
CREATE INDEX leaves_by_guild_end ON leaves (guild_id, status, end_ms, start_ms);
-- The role sweep: approved leaves by start (to give) and by end (to take back).
CREATE INDEX leaves_to_give ON leaves (status, start_ms) WHERE role_given_ms IS NULL;
CREATE INDEX leaves_to_take_back ON leaves (status, end_ms) WHERE role_given_ms IS NOT NULL AND role_removed_ms IS NULL;
