-- A time adjustment may name the department its time counts for (/shift admin add|subtract department:...),
-- so a department's leaderboard, activity and export count it. NULL: no department, counted only in the
-- unfiltered totals (every adjustment made before this migration). Voids stay NULL: their shift has one.
ALTER TABLE duty_adjustments ADD COLUMN department TEXT;
-- Department totals: the adds and subtracts of a department in a period.
CREATE INDEX duty_adjustments_by_guild_department
    ON duty_adjustments (guild_id, department, at_ms, member_id, kind, amount_ms);
