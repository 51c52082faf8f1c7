-- Tallies: for each kind of latest-only fact beginning "tally.", how many
-- keys have their head with each subject, tag and UTC day. Statement
-- triggers on heads keep the counts through every upsert, void, reset and
-- rebuild: each statement that changes heads changes each count it moves
-- once, however many heads it wrote (a rebuild's COPY included).
CREATE TABLE tallies (
    kind    text   COLLATE "C" NOT NULL,
    subject text   COLLATE "C" NOT NULL,
    tag     text   COLLATE "C" NOT NULL,
    day     bigint NOT NULL,  -- days since 1970-01-01 UTC
    n       bigint NOT NULL,
    PRIMARY KEY (kind, subject, day, tag)
);
-- The counts a change brought to zero, to delete them without a scan.
CREATE INDEX tallies_spent ON tallies (kind) WHERE n <= 0;

-- The day of a time in Unix nanoseconds, rounded down (before 1970 too).
CREATE FUNCTION tally_day(t bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN t >= 0 THEN t / 86400000000000 ELSE (t + 1) / 86400000000000 - 1 END $$;

-- tally_heads adds the heads a statement wrote (new_heads) and takes away
-- those it replaced or deleted (old_heads), netted per count.
CREATE FUNCTION tally_heads() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tallies AS t (kind, subject, tag, day, n)
        SELECT kind, subject, tag, tally_day(time), count(*) FROM new_heads
        WHERE starts_with(kind, 'tally.')
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (kind, subject, day, tag) DO UPDATE SET n = t.n + excluded.n;
        RETURN NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO tallies AS t (kind, subject, tag, day, n)
        SELECT kind, subject, tag, day, sum(n) FROM (
            SELECT kind, subject, tag, tally_day(time) AS day, 1 AS n FROM new_heads
            WHERE starts_with(kind, 'tally.')
            UNION ALL
            SELECT kind, subject, tag, tally_day(time), -1 FROM old_heads
            WHERE starts_with(kind, 'tally.')
        ) moved
        GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
        ON CONFLICT (kind, subject, day, tag) DO UPDATE SET n = t.n + excluded.n;
    ELSE
        INSERT INTO tallies AS t (kind, subject, tag, day, n)
        SELECT kind, subject, tag, tally_day(time), -count(*) FROM old_heads
        WHERE starts_with(kind, 'tally.')
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (kind, subject, day, tag) DO UPDATE SET n = t.n + excluded.n;
    END IF;
    DELETE FROM tallies WHERE n <= 0;
    RETURN NULL;
END
$$;

-- A trigger with transition tables serves one event.
CREATE TRIGGER tally_insert AFTER INSERT ON heads
    REFERENCING NEW TABLE AS new_heads
    FOR EACH STATEMENT EXECUTE FUNCTION tally_heads();
CREATE TRIGGER tally_update AFTER UPDATE ON heads
    REFERENCING OLD TABLE AS old_heads NEW TABLE AS new_heads
    FOR EACH STATEMENT EXECUTE FUNCTION tally_heads();
CREATE TRIGGER tally_delete AFTER DELETE ON heads
    REFERENCING OLD TABLE AS old_heads
    FOR EACH STATEMENT EXECUTE FUNCTION tally_heads();

-- Heads already stored before this migration.
INSERT INTO tallies (kind, subject, tag, day, n)
SELECT kind, subject, tag, tally_day(time), count(*) FROM heads
WHERE starts_with(kind, 'tally.')
GROUP BY 1, 2, 3, 4;
