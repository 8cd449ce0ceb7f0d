-- One row per (topic, post); post_h = cityHash64(post_id), computed by the
-- writer. The key ends with post_h, so re-deliveries of a post collapse on
-- merge; ordered by topic first, so the exact counts of a few topics read
-- only their ranges. Every exact count (Trends' posts, authors, baselines
-- and series; Spread; Timeline) comes from here, as uniqExact(post_h) or
-- one GROUP BY post_h: distinct sets of fixed-size hashes, several times
-- cheaper than of strings, exact whether or not duplicates have merged.
--
-- Partitioned by day: 18.16 prunes the key by topic only when a query
-- lists topics (topic IN set), not by the minute after it, so a window
-- prunes by partition instead (an hour reads one day's part of the listed
-- topics, not their whole history). Small granules (2048 rows) because a
-- listed tail topic costs at least one granule per part. A post whose time
-- moved to another day has rows in two partitions that never merge; the
-- uniqExact counts over post_h still count it once.
CREATE TABLE IF NOT EXISTS topic_posts (
    topic String,
    minute DateTime,
    post_h UInt64,
    post_id String,
    author String,
    source String,
    domain String,
    platform String,
    lang String,
    ts DateTime,
    ingested DateTime
) ENGINE = ReplacingMergeTree(ingested)
PARTITION BY toYYYYMMDD(minute)
ORDER BY (topic, minute, post_h)
SETTINGS index_granularity = 2048;

-- Rollups for ranking, not counting: topic rows ("deliveries", re-deliveries
-- included) per minute and per hour, by platform and language. A delivery
-- count is an upper bound of the distinct posts that merges as an integer
-- add, where an exact set costs a hash table per topic (the old minute
-- table held five sets a row and was most of the write cost). Trends ranks
-- every topic of a window by it and counts only the candidates exactly
-- (see trendsTop in read.go), reading the window's whole hours from
-- topic_hour and its ragged ends from topic_minute (splitHours). Both are
-- ordered by time first, so a window prunes them.
CREATE TABLE IF NOT EXISTS topic_minute (
    topic String,
    minute DateTime,
    platform String,
    lang String,
    deliveries AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, topic, platform, lang);

CREATE MATERIALIZED VIEW IF NOT EXISTS topic_minute_mv TO topic_minute AS
SELECT topic, minute, platform, lang, sumState(toUInt64(1)) AS deliveries
FROM topic_posts
GROUP BY topic, minute, platform, lang;

CREATE TABLE IF NOT EXISTS topic_hour (
    topic String,
    hour DateTime,
    platform String,
    lang String,
    deliveries AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, topic, platform, lang);

CREATE MATERIALIZED VIEW IF NOT EXISTS topic_hour_mv TO topic_hour AS
SELECT topic, toStartOfHour(minute) AS hour, platform, lang, sumState(toUInt64(1)) AS deliveries
FROM topic_posts
GROUP BY topic, hour, platform, lang;
