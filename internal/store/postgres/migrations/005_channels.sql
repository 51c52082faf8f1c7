-- Confidential channels: their members and the ciphertexts posted to them.
-- None of this is on the public log, which holds only a commitment to each
-- ciphertext's plaintext (a sealed entry at sealed.idx).
CREATE TABLE channels (
    id      text        COLLATE "C" PRIMARY KEY,  -- 16 random lower-case hex digits
    name    text        NOT NULL,
    creator text        NOT NULL,
    created timestamptz NOT NULL,
    epoch   bigint      NOT NULL  -- from 1; +1 each time a member is removed
);

CREATE TABLE channel_members (
    channel text        COLLATE "C" NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    account text        COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    since   timestamptz NOT NULL,
    PRIMARY KEY (channel, account)
);
CREATE INDEX channel_members_by_account ON channel_members (account, channel);

CREATE TABLE sealed (
    idx        bigint      PRIMARY KEY,  -- the index of the public sealed entry
    channel    text        COLLATE "C" NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    epoch      bigint      NOT NULL,
    poster     text        NOT NULL,
    commitment text        NOT NULL,
    ciphertext bytea       NOT NULL,  -- an age file the server cannot read
    posted     timestamptz NOT NULL
);
CREATE INDEX sealed_by_channel ON sealed (channel, idx);
