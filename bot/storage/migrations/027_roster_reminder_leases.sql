-- Roster reminders exactly once (bot/rosters/reminders.py): the claim row of migration 017 becomes a short lease
-- (claimed_at_ms, renewed while the reminder is sent; a claim not renewed for 30 s is taken over) with a "sent"
-- mark (sent_at_ms, and where: the DM channel or the reports channel, and the message). A transient failure
-- gives the claim up to be retried (attempts, failure); once the occurrence has started it is given up for good
-- (given_up_ms), which roster attendance shows.
ALTER TABLE roster_reminders_sent ADD COLUMN claimed_at_ms INTEGER;
ALTER TABLE roster_reminders_sent ADD COLUMN sent_at_ms INTEGER;
ALTER TABLE roster_reminders_sent ADD COLUMN channel_id INTEGER;
ALTER TABLE roster_reminders_sent ADD COLUMN message_id INTEGER;
ALTER TABLE roster_reminders_sent ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE roster_reminders_sent ADD COLUMN failure TEXT;
ALTER TABLE roster_reminders_sent ADD COLUMN given_up_ms INTEGER;
-- Claimed before this migration meant done (at most once): never sent again.
UPDATE roster_reminders_sent SET claimed_at_ms = claimed_ms, sent_at_ms = claimed_ms;
