-- The web dashboard (bot/dashboard/): server-side sessions and the OAuth2 logins in flight.
-- A session's id is a random value in the browser's cookie; only its SHA-256 is stored, so a copy of the
-- database gives no live cookie. guilds_json: the servers the user manages, as Discord listed them at login
-- (their access token is used once, at login, and never stored). seen_ms: the last request (the idle
-- timeout); csrf: the token every form of the session carries.
CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    guilds_json TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_seen ON dashboard_sessions (seen_ms);

-- A login in flight: the `state` sent to Discord (its SHA-256), the PKCE verifier, where to go after. Taken
-- (deleted) by the one callback that uses it: a replayed state finds nothing.
CREATE TABLE dashboard_logins (
    state_hash TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX dashboard_logins_created ON dashboard_logins (created_ms);
