-- The roles the bot gave, recorded with what they were given for, so the end takes back exactly those whatever
-- the settings say by then (an admin may switch the On Duty, On Break, on-leave or a department's role meanwhile),
-- across restarts and processes. A role set meanwhile is not given to who is already on duty or on leave.
--
-- A shift's roles: 'duty' (On Duty), 'department' (its department's role), 'break' (On Break, while on a break).
-- 'legacy' (role 0) marks a shift open when this migration ran: nothing was recorded for it, so its end takes back
-- the roles the settings name then, as before.
CREATE TABLE shift_roles (
    shift_id TEXT NOT NULL,
    role_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('duty', 'department', 'break', 'legacy')),
    PRIMARY KEY (shift_id, role_id)
);
INSERT INTO shift_roles (shift_id, role_id, kind) SELECT id, 0, 'legacy' FROM shifts WHERE ended_ms IS NULL;
-- A leave's on-leave role: given_role_recorded = 1 once the give is recorded (given_role_id NULL: none was set);
-- 0 for a leave given its role before this migration: its end takes back the role the settings name then.
ALTER TABLE leaves ADD COLUMN given_role_id INTEGER;
ALTER TABLE leaves ADD COLUMN given_role_recorded INTEGER NOT NULL DEFAULT 0;
