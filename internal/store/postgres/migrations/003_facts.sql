-- Projections: facts derived from the log, the latest fact of each key,
-- entries voided by corrections and retractions, and how far the facts go.
CREATE TABLE facts (
    idx     bigint  NOT NULL,  -- the entry that states the fact
    seq     integer NOT NULL,  -- its number among that entry's facts
    kind    text    COLLATE "C" NOT NULL,
    subject text    COLLATE "C" NOT NULL,
    object  text    COLLATE "C" NOT NULL,
    tag     text    COLLATE "C" NOT NULL,
    time    bigint  NOT NULL,  -- the time described, Unix nanoseconds UTC
    latest  boolean NOT NULL,  -- only the latest fact of its key holds
    data    bytea   NOT NULL,
    PRIMARY KEY (idx, seq)
);
-- Each index hands rows over in the order answers want them (time, then
-- entry).
CREATE INDEX facts_by_subject ON facts (kind, subject, time, idx, seq);
CREATE INDEX facts_by_object ON facts (kind, object, time, idx, seq);
CREATE INDEX facts_by_time ON facts (kind, time, idx, seq);

-- heads holds, for each key of latest-only facts, the fact that holds now.
CREATE TABLE heads (
    kind    text    COLLATE "C" NOT NULL,
    subject text    COLLATE "C" NOT NULL,
    object  text    COLLATE "C" NOT NULL,
    tag     text    COLLATE "C" NOT NULL,
    time    bigint  NOT NULL,
    idx     bigint  NOT NULL,
    seq     integer NOT NULL,
    PRIMARY KEY (kind, subject, object)
);
CREATE INDEX heads_by_tag ON heads (kind, tag);
CREATE INDEX heads_by_object ON heads (kind, object);
CREATE INDEX heads_by_entry ON heads (idx);  -- the heads an entry's voiding moves

CREATE TABLE voids (
    target   bigint PRIMARY KEY,  -- the entry whose facts no longer hold
    voided_by bigint NOT NULL     -- the entry that corrected or retracted it
);

-- How far the facts go, in one row that every writer of facts locks.
CREATE TABLE projected (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint  NOT NULL
);
INSERT INTO projected (one, size) VALUES (true, 0);
