-- The heads of a subject by the time they describe: the latest facts of a
-- period (a day's incidents, now) are a range of this index, not a scan of
-- every key of the subject.
CREATE INDEX heads_by_time ON heads (kind, subject, time);
