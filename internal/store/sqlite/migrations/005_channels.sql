-- Confidential channels: their members and the ciphertexts posted to them.
-- None of this is on the public log, which holds only a commitment to each
-- ciphertext's plaintext (a sealed entry at sealed.idx). Times are RFC 3339
-- text in UTC with nine fractional digits, as in the account tables.
CREATE TABLE channels (
    id      TEXT    PRIMARY KEY,  -- 16 random lower-case hex digits
    name    TEXT    NOT NULL,
    creator TEXT    NOT NULL,
    created TEXT    NOT NULL,
    epoch   INTEGER NOT NULL      -- from 1; +1 each time a member is removed
) WITHOUT ROWID;

CREATE TABLE channel_members (
    channel TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    since   TEXT NOT NULL,
    PRIMARY KEY (channel, account)
) WITHOUT ROWID;
CREATE INDEX channel_members_by_account ON channel_members (account, channel);

CREATE TABLE sealed (
    idx        INTEGER PRIMARY KEY,  -- the index of the public sealed entry
    channel    TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    epoch      INTEGER NOT NULL,
    poster     TEXT    NOT NULL,
    commitment TEXT    NOT NULL,
    ciphertext BLOB    NOT NULL,     -- an age file the server cannot read
    posted     TEXT    NOT NULL
);
CREATE INDEX sealed_by_channel ON sealed (channel, idx);
