-- Sources and their status: latest version per id wins; a delete is a
-- version with deleted = 1. Options are parallel arrays (no Map in 18.16).
CREATE TABLE IF NOT EXISTS sources (
    id String,
    kind String,
    url String,
    name String,
    lang String,
    interval_ms Int64,
    enabled UInt8,
    option_keys Array(String),
    option_values Array(String),
    created DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS source_status (
    source_id String,
    last_attempt DateTime,
    last_success DateTime,
    last_error String,
    last_error_at DateTime,
    failures Int64,
    items_per_day Float64,
    next_poll DateTime,
    last_new_items Int64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY source_id;

-- Cases: the alerter owns their state machine; this table keeps every
-- version and readers take the highest. body is the case as JSON.
CREATE TABLE IF NOT EXISTS cases (
    id String,
    fact_id String,
    state String,
    severity String,
    opened DateTime,
    updated DateTime,
    version UInt64,
    body String
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Case events keyed by an idempotency id, so a re-delivered command appends
-- nothing new.
CREATE TABLE IF NOT EXISTS case_events (
    case_id String,
    id String,
    time DateTime,
    actor String,
    action String,
    detail String
) ENGINE = ReplacingMergeTree()
ORDER BY (case_id, id);
