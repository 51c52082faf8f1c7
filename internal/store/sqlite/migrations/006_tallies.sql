-- Tallies: for each kind of latest-only fact beginning "tally.", how many
-- keys have their head with each subject, tag and UTC day. Triggers on heads
-- keep the counts through every upsert, void and reset; a rebuild drops the
-- triggers and counts the heads again at the end.
CREATE TABLE tallies (
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    tag     TEXT    NOT NULL,
    day     INTEGER NOT NULL,  -- days since 1970-01-01 UTC
    n       INTEGER NOT NULL,
    PRIMARY KEY (kind, subject, day, tag)
) WITHOUT ROWID;

-- The day of a head's time (Unix nanoseconds), rounded down (before 1970
-- too), computed when read: the one place the formula is written.
ALTER TABLE heads ADD COLUMN day INTEGER GENERATED ALWAYS AS
    (CASE WHEN time >= 0 THEN time / 86400000000000 ELSE (time + 1) / 86400000000000 - 1 END) VIRTUAL;

CREATE TRIGGER tally_insert AFTER INSERT ON heads WHEN NEW.kind GLOB 'tally.*'
BEGIN
    INSERT INTO tallies (kind, subject, tag, day, n)
    VALUES (NEW.kind, NEW.subject, NEW.tag, NEW.day, 1)
    ON CONFLICT (kind, subject, day, tag) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tally_delete AFTER DELETE ON heads WHEN OLD.kind GLOB 'tally.*'
BEGIN
    UPDATE tallies SET n = n - 1
    WHERE kind = OLD.kind AND subject = OLD.subject AND tag = OLD.tag AND day = OLD.day;
    DELETE FROM tallies
    WHERE kind = OLD.kind AND subject = OLD.subject AND tag = OLD.tag AND day = OLD.day AND n <= 0;
END;

-- A head that moves to another fact of the same tag and day moves no count.
CREATE TRIGGER tally_update AFTER UPDATE ON heads WHEN OLD.kind GLOB 'tally.*'
    AND (OLD.tag <> NEW.tag OR OLD.day <> NEW.day OR OLD.subject <> NEW.subject)
BEGIN
    UPDATE tallies SET n = n - 1
    WHERE kind = OLD.kind AND subject = OLD.subject AND tag = OLD.tag AND day = OLD.day;
    DELETE FROM tallies
    WHERE kind = OLD.kind AND subject = OLD.subject AND tag = OLD.tag AND day = OLD.day AND n <= 0;
    INSERT INTO tallies (kind, subject, tag, day, n)
    VALUES (NEW.kind, NEW.subject, NEW.tag, NEW.day, 1)
    ON CONFLICT (kind, subject, day, tag) DO UPDATE SET n = n + 1;
END;

-- Heads already stored before this migration.
INSERT INTO tallies (kind, subject, tag, day, n)
SELECT kind, subject, tag, day, count(*) FROM heads WHERE kind GLOB 'tally.*' GROUP BY kind, subject, tag, day;
