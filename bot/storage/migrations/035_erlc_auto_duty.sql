-- Automatic shifts (bot/erlc/gamelock.py): a verified member may opt out of going on duty when they join a duty
-- team in game. The choice belongs to the member's link (kept when the link is renewed, gone with an unlink).
ALTER TABLE erlc_links ADD COLUMN auto_duty_opt_out INTEGER NOT NULL DEFAULT 0;
