-- One row per (topic, post). The key ends with post_id, so re-deliveries of
-- a post collapse on merge, and every query over this table counts
-- uniqExact(post_id).
CREATE TABLE IF NOT EXISTS topic_posts (
    topic String,
    minute DateTime,
    post_id String,
    author String,
    source String,
    domain String,
    platform String,
    lang String,
    ts DateTime,
    ingested DateTime
) ENGINE = ReplacingMergeTree(ingested)
PARTITION BY toYYYYMM(minute)
ORDER BY (topic, minute, post_id);

-- Per topic, minute, platform and language: exact distinct sets as
-- aggregate states. Merging uniqExact states is a set union, so a post
-- delivered three times still counts once, before or after merges. The sets
-- hold 64-bit hashes of the ids, not the strings: several times cheaper to
-- store and merge, and a collision among 10M ids has odds of about 3e-6.
CREATE TABLE IF NOT EXISTS topic_minute (
    topic String,
    minute DateTime,
    platform String,
    lang String,
    posts AggregateFunction(uniqExact, UInt64),
    authors AggregateFunction(uniqExactIf, UInt64, UInt8),
    sources AggregateFunction(uniqExactIf, UInt64, UInt8),
    domains AggregateFunction(uniqExactIf, UInt64, UInt8),
    first_seen AggregateFunction(min, DateTime),
    last_seen AggregateFunction(max, DateTime)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, topic, platform, lang);

CREATE MATERIALIZED VIEW IF NOT EXISTS topic_minute_mv TO topic_minute AS
SELECT
    topic,
    minute,
    platform,
    lang,
    uniqExactState(cityHash64(post_id)) AS posts,
    uniqExactIfState(cityHash64(author), author != '') AS authors,
    uniqExactIfState(cityHash64(source), source != '') AS sources,
    uniqExactIfState(cityHash64(domain), domain != '') AS domains,
    minState(ts) AS first_seen,
    maxState(ts) AS last_seen
FROM topic_posts
GROUP BY topic, minute, platform, lang;
