-- Trend flags: a detector's verdict that a topic is rising. The key is the
-- flag's identity (topic, kind, time to the second), so a flag re-delivered
-- or re-emitted after a detector restart is stored once; the highest
-- version (a later write) wins. Readers take argMax(..., version) per key
-- rather than FINAL, so unmerged copies never show twice. Partitioning by
-- month keeps every copy of a flag in one partition and lets a time window
-- drop whole months.
CREATE TABLE IF NOT EXISTS trend_flags (
    topic String,
    kind String,
    ts DateTime,
    score Float64,
    posts Int64,
    authors Int64,
    post_ids Array(String),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (topic, kind, ts);
