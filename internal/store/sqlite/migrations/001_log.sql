-- The signed log: leaves, the Merkle tree's tiles, checkpoints, settings.
CREATE TABLE leaves (
    idx  INTEGER PRIMARY KEY,      -- the Merkle leaf index, 0-based
    hash BLOB    NOT NULL UNIQUE,  -- SHA-256 of the canonical entry: idempotency
    type TEXT    NOT NULL,         -- the entry type, so keys can be found
    data BLOB    NOT NULL          -- the exact bytes the tree commits to
);
CREATE INDEX leaves_by_type ON leaves (type, idx);

CREATE TABLE tiles (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    width INTEGER NOT NULL,
    data  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    time TEXT    NOT NULL,
    note BLOB    NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
