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
-- No index finds the counts a change brought to zero: one on n would
-- make every change of a count a non-HOT update. The triggers delete the
-- counts a statement took from, by their key, when they reach zero.

-- The day of a time in Unix nanoseconds, rounded down (before 1970 too).
CREATE FUNCTION tally_day(t bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN t >= 0 THEN t / 86400000000000 ELSE (t + 1) / 86400000000000 - 1 END $$;

-- tally_heads adds the heads a statement wrote (new_heads) and takes away
-- those it replaced or deleted (old_heads), netted per count; then deletes
-- the counts it took from that reached zero. (Only a count some old head
-- had can fall, so the join with old_heads finds every one.)
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
        DELETE FROM tallies t USING old_heads o
        WHERE starts_with(o.kind, 'tally.')
          AND t.kind = o.kind AND t.subject = o.subject AND t.tag = o.tag AND t.day = tally_day(o.time)
          AND t.n <= 0;
    ELSE
        INSERT INTO tallies AS t (kind, subject, tag, day, n)
        SELECT kind, subject, tag, tally_day(time), -count(*) FROM old_heads
        WHERE starts_with(kind, 'tally.')
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (kind, subject, day, tag) DO UPDATE SET n = t.n + excluded.n;
        DELETE FROM tallies t USING old_heads o
        WHERE starts_with(o.kind, 'tally.')
          AND t.kind = o.kind AND t.subject = o.subject AND t.tag = o.tag AND t.day = tally_day(o.time)
          AND t.n <= 0;
    END IF;
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
