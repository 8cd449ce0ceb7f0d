-- Posts, one row per delivery. ReplacingMergeTree collapses re-deliveries of
-- the same id when parts merge; until then reads use FINAL or argMax(...,
-- ingested) per id, never a bare count(). Partitioning by a hash of the id
-- puts every delivery of a post in the same partition, which FINAL needs to
-- see them as duplicates (a time partition would split a post whose
-- published time changed between deliveries). Posts are read by id.
CREATE TABLE IF NOT EXISTS posts (
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
PARTITION BY cityHash64(id) % 16
ORDER BY id;
