-- Where an audited change was made (bot/audit.py): 'discord' (a slash command or button) or 'dashboard' (the web
-- dashboard, bot/dashboard/). The history shows it next to who made the change. Rows from before: Discord (the
-- only front door then).
ALTER TABLE duty_adjustments ADD COLUMN source TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'dashboard'));
ALTER TABLE roster_audit ADD COLUMN source TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'dashboard'));
-- A leave's decision: where it was made (NULL while pending).
ALTER TABLE leaves ADD COLUMN decided_source TEXT CHECK (decided_source IS NULL OR decided_source IN ('discord', 'dashboard'));
