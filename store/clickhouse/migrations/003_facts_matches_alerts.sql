-- Facts: every write is a new version; the highest version of an id wins and
-- a delete is a version with deleted = 1. Readers use argMax(..., version)
-- per id rather than FINAL, whose PREWHERE interplay differs across servers.
-- Translations are two parallel arrays: 18.16 has no Map type.
CREATE TABLE IF NOT EXISTS facts (
    id String,
    claim String,
    title String,
    summary String,
    lang String,
    verdict String,
    rating String,
    publisher String,
    url String,
    date DateTime,
    tags Array(String),
    translation_langs Array(String),
    translation_texts Array(String),
    updated DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- post_h = cityHash64(post_id), so a topic's facts are found with the
-- same fixed-size hashes topic_posts holds.
CREATE TABLE IF NOT EXISTS matches (
    post_id String,
    post_h UInt64,
    fact_id String,
    score Float64,
    verdict String,
    published DateTime,
    detected DateTime
) ENGINE = ReplacingMergeTree(detected)
PARTITION BY toYYYYMM(published)
ORDER BY (fact_id, post_id);

-- Alerts by idempotency key (one per fact and post).
CREATE TABLE IF NOT EXISTS alerts (
    key String,
    fact_id String,
    post_id String,
    verdict String,
    claim String,
    fact_url String,
    score Float64,
    lang String,
    platform String,
    source String,
    author String,
    post_url String,
    post_title String,
    post_text String,
    published DateTime,
    detected DateTime,
    ingested DateTime
) ENGINE = ReplacingMergeTree(ingested)
PARTITION BY toYYYYMM(detected)
ORDER BY key;
