-- Where each audited admin action came from: 'discord' (a command or button) or 'dashboard' (the web
-- dashboard, bot/dashboard/). Rows from before say 'discord', which is where every action came from then.
-- Leave: the source of the decision (approve/deny) and of an early end.
ALTER TABLE settings_audit ADD COLUMN source TEXT NOT NULL DEFAULT 'discord';
ALTER TABLE roster_audit ADD COLUMN source TEXT NOT NULL DEFAULT 'discord';
ALTER TABLE duty_adjustments ADD COLUMN source TEXT NOT NULL DEFAULT 'discord';
ALTER TABLE leaves ADD COLUMN decided_source TEXT;
ALTER TABLE leaves ADD COLUMN ended_source TEXT;
