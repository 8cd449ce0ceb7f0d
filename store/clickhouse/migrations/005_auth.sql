-- Dashboard users, API tokens and login sessions. Secrets are never stored:
-- passwords as slow salted hashes, tokens and session ids as SHA-256 of
-- 256-bit random values. The latest version per key wins; disabling a user
-- or revoking a token/session is a new version with the flag set.
CREATE TABLE IF NOT EXISTS users (
    name String,
    role String,
    password_hash String,
    disabled UInt8,
    created DateTime,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY name;

CREATE TABLE IF NOT EXISTS api_tokens (
    hash String,
    id String,
    label String,
    role String,
    owner String,
    created DateTime,
    expires DateTime,
    revoked UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY hash;

CREATE TABLE IF NOT EXISTS sessions (
    hash String,
    username String,
    created DateTime,
    expires DateTime,
    revoked UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY hash;
