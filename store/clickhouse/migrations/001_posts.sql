-- Posts, one row per delivery. ReplacingMergeTree collapses re-deliveries of
-- the same post when parts merge; until then reads use FINAL or argMax(...,
-- ingested) per post, never a bare count().
--
-- The key is h = cityHash64(id), computed by the writer: a narrow fixed-size
-- key makes FINAL (CountPosts) read 12 bytes a row instead of a 32-byte
-- string and the ingested column, and lets the spread's sample lookup
-- (h IN topic_posts.post_h) use the primary index. Odds of a collision among
-- 10M ids are about 3e-6; the same hashes already back the exact sets of the
-- topic rollups. No partitioning: an insert writes one part instead of one
-- per partition (the old 16 hash partitions cost 16 parts per batch), and
-- every delivery of a post lands in the same (only) partition, which FINAL
-- needs to see them as duplicates.
CREATE TABLE IF NOT EXISTS posts (
    h UInt64,
    id String,
    source String,
    platform String,
    url String,
    canonical_url String,
    author String,
    lang String,
    title String,
    text String,
    published DateTime,
    fetched DateTime,
    likes Int64,
    shares Int64,
    replies Int64,
    topics Array(String),
    fact_ids Array(String),
    ingested DateTime
) ENGINE = ReplacingMergeTree(ingested)
ORDER BY h;
