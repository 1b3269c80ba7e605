-- Leases: work that one process of several (sharing this database) must do alone, e.g. "scheduler"
-- (scheduled reports, leave expiry, roster reminders). The holder renews before expires_ms; a process that
-- dies stops renewing, and another takes the lease over once it has expired. bot/storage/leases.py.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
-- Several processes: each looks for settings another process changed (bot/settings/watch.py) by the time of
-- the audit rows every change writes.
CREATE INDEX settings_audit_by_time ON settings_audit (at_ms);
