-- Who may work on the record through a server: accounts, the signed-in
-- browsers (sessions) and the programs' API tokens. Sessions and tokens are
-- kept by the SHA-256 of their secret, never the secret.
CREATE TABLE accounts (
    name      text        COLLATE "C" PRIMARY KEY,
    role      text        NOT NULL,
    party     text        NOT NULL,  -- '' for none
    recipient text        NOT NULL,  -- age X25519 recipient, '' until registered
    password  text        NOT NULL,  -- argon2id hash in the PHC string format
    created   timestamptz NOT NULL,
    disabled  boolean     NOT NULL   -- may not sign in or use a token
);

CREATE TABLE sessions (
    hash    bytea       PRIMARY KEY,  -- SHA-256 of the cookie
    account text        COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    csrf    text        NOT NULL,
    created timestamptz NOT NULL,
    expires timestamptz NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account);

CREATE TABLE tokens (
    hash    bytea       PRIMARY KEY,      -- SHA-256 of the secret
    id      text        COLLATE "C" NOT NULL UNIQUE,  -- the short public id
    account text        COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    label   text        NOT NULL,
    created timestamptz NOT NULL,
    -- The order tokens were stored in, which lists tokens of the same time
    -- (SQLite's rowid).
    seq     bigint      GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX tokens_by_account ON tokens (account, created, seq);
