-- The signed log: leaves, the Merkle tree's tiles, checkpoints, settings,
-- and the log's size. Text that answers are ordered by is compared byte by
-- byte (COLLATE "C"), as SQLite does, whatever the database's locale.
CREATE TABLE leaves (
    idx  bigint PRIMARY KEY,     -- the Merkle leaf index, 0-based
    hash bytea  NOT NULL UNIQUE, -- SHA-256 of the canonical entry: idempotency
    type text   COLLATE "C" NOT NULL, -- the entry type, so keys can be found
    data bytea  NOT NULL         -- the exact bytes the tree commits to
);
CREATE INDEX leaves_by_type ON leaves (type, idx);

CREATE TABLE tiles (
    level integer NOT NULL,
    idx   bigint  NOT NULL,
    width integer NOT NULL,
    data  bytea   NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
    size bigint      PRIMARY KEY,
    time timestamptz NOT NULL,
    note bytea       NOT NULL
);

CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

-- The number of leaves, in one row that every append locks: appenders, in
-- one process or many, take turns, and one that does not start at the size
-- finds out when its turn comes.
CREATE TABLE log_size (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint  NOT NULL
);
INSERT INTO log_size (one, size) VALUES (true, 0);
