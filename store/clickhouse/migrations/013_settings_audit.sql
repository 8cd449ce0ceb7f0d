-- Every accepted change of a run-time setting (thresholds, alert policy):
-- who made it, when, and the value before and after (JSON). Kept for
-- ever. A setting's revision and the time key a change, so a re-sent
-- insert is merged away and two changes never are.
CREATE TABLE IF NOT EXISTS settings_audit (
    time DateTime,
    setting String,
    revision UInt64,
    actor String,
    old String,
    new String
) ENGINE = ReplacingMergeTree()
ORDER BY (setting, revision, time)
