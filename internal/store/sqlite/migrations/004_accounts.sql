-- Who may work on the record through a server: accounts, the signed-in
-- browsers (sessions) and the programs' API tokens. Sessions and tokens are
-- kept by the SHA-256 of their secret, never the secret. Times are RFC 3339
-- text in UTC with nine fractional digits, so that text order is time order.
CREATE TABLE accounts (
    name      TEXT    PRIMARY KEY,
    role      TEXT    NOT NULL,
    party     TEXT    NOT NULL,  -- '' for none
    recipient TEXT    NOT NULL,  -- age X25519 recipient, '' until registered
    password  TEXT    NOT NULL,  -- argon2id hash in the PHC string format
    created   TEXT    NOT NULL,
    disabled  INTEGER NOT NULL   -- 1: may not sign in or use a token
) WITHOUT ROWID;

CREATE TABLE sessions (
    hash    BLOB PRIMARY KEY,  -- SHA-256 of the cookie
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    csrf    TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account);

CREATE TABLE tokens (
    hash    BLOB PRIMARY KEY,      -- SHA-256 of the secret
    id      TEXT NOT NULL UNIQUE,  -- the short public id
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    label   TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX tokens_by_account ON tokens (account, created);
