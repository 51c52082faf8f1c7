-- Projections: facts derived from the log, the latest fact of each key,
-- entries voided by corrections and retractions, and how far the facts go.
CREATE TABLE facts (
    idx     INTEGER NOT NULL,  -- the entry that states the fact
    seq     INTEGER NOT NULL,  -- its number among that entry's facts
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    object  TEXT    NOT NULL,
    tag     TEXT    NOT NULL,
    time    INTEGER NOT NULL,  -- the time described, Unix nanoseconds UTC
    latest  INTEGER NOT NULL,  -- 1: only the latest fact of its key holds
    data    BLOB    NOT NULL,
    PRIMARY KEY (idx, seq)
);
-- Each index hands rows over in the order answers want them (time, then
-- entry), so that the planner never trades a narrow search for a sort.
CREATE INDEX facts_by_subject ON facts (kind, subject, time, idx, seq);
CREATE INDEX facts_by_object ON facts (kind, object, time, idx, seq);
CREATE INDEX facts_by_time ON facts (kind, time, idx, seq);

-- heads holds, for each key of latest-only facts, the fact that holds now.
CREATE TABLE heads (
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    object  TEXT    NOT NULL,
    tag     TEXT    NOT NULL,
    time    INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (kind, subject, object)
) WITHOUT ROWID;
CREATE INDEX heads_by_tag ON heads (kind, tag);
CREATE INDEX heads_by_object ON heads (kind, object);
CREATE INDEX heads_by_entry ON heads (idx);  -- the heads an entry's voiding moves

CREATE TABLE voids (
    target INTEGER PRIMARY KEY,  -- the entry whose facts no longer hold
    by     INTEGER NOT NULL      -- the entry that corrected or retracted it
);

CREATE TABLE projected (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    size INTEGER NOT NULL
);
INSERT INTO projected (one, size) VALUES (1, 0);
