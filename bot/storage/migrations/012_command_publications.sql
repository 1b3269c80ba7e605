-- What the bot last published as slash commands, per scope ('global' or 'guild:<id>'): a hash of the
-- command tree, so a start publishes only when the commands changed (never on every start).
CREATE TABLE command_publications (
    scope TEXT PRIMARY KEY,
    tree_hash TEXT NOT NULL,
    published_at TEXT NOT NULL
);
