-- A shift may end because its member left the ER:LC game for longer than the server's gamelock grace
-- (end_reason 'left_game', bot/erlc/gamelock.py). PostgreSQL changes the CHECK in place.
ALTER TABLE shifts DROP CONSTRAINT shifts_end_reason_check;
ALTER TABLE shifts ADD CONSTRAINT shifts_end_reason_check CHECK (
    end_reason IS NULL OR end_reason IN ('member', 'admin', 'auto', 'left', 'bot_removed', 'left_game')
);
