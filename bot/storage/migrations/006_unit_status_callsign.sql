-- The newest record of a unit id (callsign) in a guild decides what is sent and shown for that unit
-- (bot/status.py: a released callsign's old state never overwrites its new owner): find it by index.
CREATE INDEX unit_status_callsign ON unit_status (guild_id, callsign, version);
