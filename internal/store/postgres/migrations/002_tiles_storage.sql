-- SQLite's migration 002 moved tiles to a rowid table; every PostgreSQL
-- table has its rows apart from its primary key already. The counterpart
-- here: a tile (up to 8 KiB of hashes) is kept out of line and never
-- compressed, since hashes do not compress and trying costs every write.
ALTER TABLE tiles ALTER COLUMN data SET STORAGE EXTERNAL;
