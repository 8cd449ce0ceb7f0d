-- Exact counts of closed hours, written by the compactor (compact.go), so
-- that a week's Trends and Spread add ~170 numbers per topic instead of
-- building a hash set of millions of posts (measured: the candidates'
-- distinct posts over 7 days at 10M posts took ~1 s of a 1.6 s page).
--
-- The unit they count is a post in an hour: a post counts once in each
-- hour it has rows in (under a language and platform, for filtered
-- views). That makes hours add up; a post re-delivered with a time in
-- another hour counts in both, as it does in any per-period rollup. Raw
-- queries over hours not (yet) compacted count the same unit, so a result
-- is the same whether or not an hour was compacted (rollup_test.go).
--
-- hour_deliveries counts topic rows inserted per hour (a view, so it
-- never misses a write). The compactor records the count each hour had
-- when it compacted it (compactions); a reader uses a compacted hour only
-- while the counts still agree, so a late row makes its hour raw again
-- until the compactor redoes it. Hours are UTC (intDiv of Unix seconds),
-- whatever the server's time zone.
CREATE TABLE IF NOT EXISTS hour_deliveries (
    hour DateTime,
    deliveries AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
ORDER BY hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS hour_deliveries_mv TO hour_deliveries AS
SELECT toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS hour, sumState(toUInt64(1)) AS deliveries
FROM topic_posts
GROUP BY hour;

-- Rows written before the view existed. A batch inserted between the two
-- statements is counted twice; that only means its hour's count is larger
-- than its rows, which the compactor records and readers compare alike.
INSERT INTO hour_deliveries (hour, deliveries)
SELECT h0, sumState(n0) FROM (
    SELECT toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS h0, count() AS n0
    FROM topic_posts
    GROUP BY h0
)
GROUP BY h0;

-- One row per (topic, hour, language, platform), plus one per (topic,
-- hour) with lang = platform = '*' for unfiltered views: posts is the
-- distinct posts of the group, topic_rows its rows (equal when every post
-- is one row: Spread then counts rows), authors a HyperLogLog of its
-- authors (uniqHLL12: a fixed 2.5 KB that merges in microseconds; exact
-- sets cost as much to merge as to build). Readers take the version the
-- hour's compactions row names; older versions merge away. Ordered by
-- language and platform before the hour, so that a view reads only its
-- own rows, and in small granules: a row carries a sketch of up to
-- 2.5 KB, and 8192-row granules made a week's unfiltered authors read
-- every group's sketches (105 ms instead of 26-50 for the 67 largest
-- topics of 10M posts).
CREATE TABLE IF NOT EXISTS topic_hour_exact (
    topic String,
    hour DateTime,
    lang String,
    platform String,
    posts UInt64,
    topic_rows UInt64,
    first_ts DateTime,
    last_ts DateTime,
    authors AggregateFunction(uniqHLL12, UInt64),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(hour)
ORDER BY (topic, lang, platform, hour)
SETTINGS index_granularity = 256;

-- Authors per UTC day, the same groups: a week's authors merge 7 states
-- per topic instead of 168 (measured 30 ms against ~250 ms for the 67
-- largest topics of 10M posts).
CREATE TABLE IF NOT EXISTS topic_day_authors (
    topic String,
    day DateTime,
    lang String,
    platform String,
    authors AggregateFunction(uniqHLL12, UInt64),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (topic, lang, platform, day)
SETTINGS index_granularity = 256;

-- Spread's lists of a compacted hour: topic rows per author (dim 1),
-- source (2), link domain (3), language (4) and platform (5), empty keys of
-- the first three left out, as qSpreadKeys counts them. A week of a topic
-- of 2.2M rows is ~600k rows here, its sources and domains a few hundred
-- (the raw GROUP BY over four string columns took 150 ms).
CREATE TABLE IF NOT EXISTS topic_hour_keys (
    topic String,
    hour DateTime,
    dim UInt8,
    key String,
    topic_rows UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(hour)
ORDER BY (topic, hour, dim, key);

-- The facts matched by a compacted hour's posts, per topic: Spread's fact
-- list without a join of the topic's posts to matches (85 ms for 2.2M
-- rows).
CREATE TABLE IF NOT EXISTS topic_hour_facts (
    topic String,
    hour DateTime,
    fact_id String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(hour)
ORDER BY (topic, hour, fact_id);

-- What the compactor did: the period [start, start + span) was compacted
-- at version when it held deliveries topic rows.
CREATE TABLE IF NOT EXISTS compactions (
    start DateTime,
    span UInt32,
    deliveries UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (span, start)
