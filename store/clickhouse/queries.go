package clickhouse

// Every SQL statement the store issues, by name. Rules that keep them
// running on 18.16 and on current servers alike (TestQueriesCurrentEngine
// runs them all through chdb, the integration tests through 18.16):
//   - every INSERT names its columns (18.16 sends an empty block otherwise)
//     and goes through PrepareBatch: 18.16 waits for a data block after an
//     INSERT ... VALUES sent by Exec, which hangs;
//   - times travel as Unix seconds wrapped in toDateTime(?);
//   - only functions both engines have: no toStartOfInterval, window
//     functions, JSONExtract, Map or DateTime64;
//   - a count is uniqExact over an id, count() with FINAL, or argMax(...,
//     version) per id, never a bare count() over a table that may still hold
//     unmerged re-deliveries; the rollups' delivery counts only rank
//     (upper bounds, see trendsTop), they are never shown.
//   - no alias equals a column name (old servers substitute aliases into
//     the column's other uses).
const (
	qCreateMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    checksum String,
    applied DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree()
ORDER BY version`
	qColumnExists      = `SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?`
	qAppliedMigrations = `SELECT DISTINCT version FROM schema_migrations ORDER BY version`
	qRecordMigration   = `INSERT INTO schema_migrations (version, name, checksum)`

	qInsertPosts = `INSERT INTO posts (h, id, source, platform, url, canonical_url, author, lang, title, text,
    published, fetched, likes, shares, replies, topics, fact_ids, ingested)`
	qInsertTopicPosts = `INSERT INTO topic_posts (topic, minute, post_h, author, source, domain, platform, lang, ts, ingested)`
	qInsertMatches    = `INSERT INTO matches (post_id, post_h, fact_id, score, verdict, published, detected)`
	qInsertFacts      = `INSERT INTO facts (id, claim, title, summary, lang, verdict, rating, publisher, url, date, tags,
    translation_langs, translation_texts, updated, deleted, version)`
	qInsertAlerts = `INSERT INTO alerts (key, fact_id, post_id, verdict, claim, fact_url, score, lang, platform, source,
    author, post_url, post_title, post_text, published, detected, ingested)`
	qInsertSources = `INSERT INTO sources (id, kind, url, name, lang, interval_ms, enabled, option_keys, option_values,
    created, deleted, version)`
	qInsertSourceStatus = `INSERT INTO source_status (source_id, last_attempt, last_success, last_error, last_error_at,
    failures, items_per_day, next_poll, last_new_items, version)`
	qInsertCases      = `INSERT INTO cases (id, fact_id, state, severity, opened, updated, version, body)`
	qInsertCaseEvents = `INSERT INTO case_events (case_id, id, time, actor, action, detail)`
	qInsertFlags      = `INSERT INTO trend_flags (topic, kind, ts, score, posts, authors, post_ids, version)`

	// Both count the distinct posts. FINAL reads only the key and version
	// columns (12 bytes a row, see 001_posts.sql); it is exact because every
	// delivery of a post shares the key and the (only) partition. 18.16
	// merges a FINAL in one stream, so the key space is cut into four
	// ranges of h that the primary index prunes to, counted in parallel:
	// every copy of a post falls in one range, so the sum stays exact.
	qCountPosts = `SELECT sum(c) FROM (
    SELECT count() AS c FROM posts FINAL WHERE h < 4611686018427387904
    UNION ALL
    SELECT count() AS c FROM posts FINAL WHERE h >= 4611686018427387904 AND h < 9223372036854775808
    UNION ALL
    SELECT count() AS c FROM posts FINAL WHERE h >= 9223372036854775808 AND h < 13835058055282163712
    UNION ALL
    SELECT count() AS c FROM posts FINAL WHERE h >= 13835058055282163712
)`
	qCountPostsUniq = `SELECT uniqExact(h) FROM posts`

	langPlat = ` AND (? = '' OR lang = ?) AND (? = '' OR platform = ?)`

	// Trends, step 1: every topic of the whole hours covering the window
	// (coveringHours) ranked by deliveries from topic_hour: an upper bound
	// of its distinct posts in the window that is cheap to merge. Grouped
	// by the topic's cityHash64, not the string: a day holds ~650k topics in
	// ~5M rollup rows, and the fixed-size key cuts the ranking's CPU by
	// ~28% (two topics sharing a hash, odds ~1e-7 among 2M, would rank as
	// one).
	// args: hours x2, lang x2, platform x2, min posts, limit
	qTrendsTop = `SELECT any(topic) AS t, sumMerge(deliveries) AS upper
FROM topic_hour
WHERE hour >= toDateTime(?) AND hour < toDateTime(?)` + langPlat + `
GROUP BY cityHash64(topic)
HAVING upper >= ?
ORDER BY upper DESC, t
LIMIT ?`
	// Trends, step 2: the exact distinct posts and authors of the
	// candidates, from the raw rows: topic_posts is ordered by topic and
	// partitioned by day, so this reads the candidates' ranges in the
	// window's days only. topic_rows equal to recent means every post has
	// one row in the window, so the series may count rows (qTrendSeriesRows).
	// args: topics (GroupSet), start, end, lang x2, platform x2
	qTrendsRecent = `SELECT topic, uniqExact(post_h) AS recent, uniqExactIf(cityHash64(author), author != '') AS recent_authors,
    count() AS topic_rows
FROM topic_posts
WHERE topic IN ? AND minute >= toDateTime(?) AND minute < toDateTime(?)` + langPlat + `
GROUP BY topic`
	// Trends, step 3: the listed topics' baselines, the same way.
	// args: topics (GroupSet), base, start, lang x2, platform x2
	qTrendsBaseline = `SELECT topic, uniqExact(post_h) AS baseline
FROM topic_posts
WHERE topic IN ? AND minute >= toDateTime(?) AND minute < toDateTime(?)` + langPlat + `
GROUP BY topic`
	// args: origin, step, topics (GroupSet), start, end, lang x2, platform x2
	qTrendSeries = `SELECT topic, intDiv(toUInt32(minute) - ?, ?) AS bucket, uniqExact(post_h) AS n
FROM topic_posts
WHERE topic IN ? AND minute >= toDateTime(?) AND minute < toDateTime(?)` + langPlat + `
GROUP BY topic, bucket
ORDER BY topic, bucket`
	// The series of topics whose posts have one row each in the window
	// (see qTrendsRecent): a row count per bucket, no hash set per bucket.
	// args: as qTrendSeries
	qTrendSeriesRows = `SELECT topic, intDiv(toUInt32(minute) - ?, ?) AS bucket, count() AS n
FROM topic_posts
WHERE topic IN ? AND minute >= toDateTime(?) AND minute < toDateTime(?)` + langPlat + `
GROUP BY topic, bucket
ORDER BY topic, bucket`

	// A post counts in the bucket of its first minute under the topic, so a
	// re-delivery with a different time cannot count it twice.
	// args: origin, step, topic, from, to
	qTimeline = `SELECT intDiv(toUInt32(first_minute) - ?, ?) AS bucket, count() AS n
FROM (
    SELECT post_h, min(minute) AS first_minute
    FROM topic_posts
    WHERE topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)
    GROUP BY post_h
)
GROUP BY bucket
ORDER BY bucket`

	// Timeline when every post has one row in the range (see SpreadWith):
	// a row count per bucket. args: as qTimeline
	qTimelineRows = `SELECT intDiv(toUInt32(minute) - ?, ?) AS bucket, count() AS n
FROM topic_posts
WHERE topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)
GROUP BY bucket
ORDER BY bucket`

	spreadWhere = ` topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)`
	// Spread's first question: does any post have more than one row in the
	// range (re-delivered before a merge, or moved in time)? When
	// topic_rows equals the distinct posts, each post is one row, and the
	// per-post dedupe of the exact queries (GROUP BY post_h, a hash set of
	// every post) is a no-op: SpreadWith then counts rows instead
	// (qSpreadKeys, qSpreadEarliest, qTimelineRows), 3-4x less work.
	// args: topic, from, to
	qSpreadCheck = `SELECT uniqExact(post_h), count() AS topic_rows, min(ts), max(ts)
FROM topic_posts
WHERE` + spreadWhere
	// Posts per key of every list, all keys (the caller keeps the top and
	// counts the distinct keys): authors alone, the four small lists from
	// one GROUP BY of their combinations, fanned out by ARRAY JOIN. Only
	// when every post is one row (qSpreadCheck).
	// args: topic, from, to, topic, from, to
	qSpreadKeys = `SELECT dim, k, sum(c) AS n
FROM (
    SELECT [1] AS dims, [author] AS keys, count() AS c FROM topic_posts WHERE` + spreadWhere + ` GROUP BY author
    UNION ALL
    SELECT [2, 3, 4, 5] AS dims, [source, domain, lang, platform] AS keys, count() AS c
    FROM topic_posts WHERE` + spreadWhere + ` GROUP BY source, domain, lang, platform
)
ARRAY JOIN dims AS dim, keys AS k
WHERE k != '' OR dim >= 4
GROUP BY dim, k`
	// args: topic, from, to
	// Keys are counted by their cityHash64 (a fixed-size set, cheaper than
	// one of strings; collisions among even 1M keys have odds of ~3e-8).
	// Each post counts with its latest delivery's values (as the lists do):
	// a re-delivery that moved the post within its minute replaces the
	// older row on merge, so min(ts) over rows would change once merged.
	// Ties in ingested (one second) go to the later time, deterministically.
	qSpreadTotals = `SELECT count(), uniqExactIf(cityHash64(a), a != ''), uniqExactIf(cityHash64(s), s != ''),
    uniqExactIf(cityHash64(d), d != ''), min(t), max(t)
FROM (
    SELECT argMax(author, ingested) AS a, argMax(source, ingested) AS s, argMax(domain, ingested) AS d, argMax(ts, (ingested, ts)) AS t
    FROM topic_posts
    WHERE` + spreadWhere + `
    GROUP BY post_h
)`
	// Every list of a spread in one scan: each post once (its latest
	// delivery's values), fanned out to one row per list by ARRAY JOIN, then
	// a plain count per (list, key). Distinct posts are counted by the one
	// GROUP BY post_h instead of a uniqExact set per key and per list,
	// which made the five separate queries the bulk of Spread's time.
	// Lists: 1 authors, 2 sources, 3 domains (empty keys left out),
	// 4 languages, 5 platforms. args: topic, from, to, limit
	qSpreadLists = `SELECT dim, k, count() AS n
FROM (
    SELECT argMax(author, ingested) AS a, argMax(source, ingested) AS s, argMax(domain, ingested) AS d,
        argMax(lang, ingested) AS l, argMax(platform, ingested) AS pl
    FROM topic_posts
    WHERE` + spreadWhere + `
    GROUP BY post_h
)
ARRAY JOIN [1, 2, 3, 4, 5] AS dim, [a, s, d, l, pl] AS k
WHERE k != '' OR dim >= 4
GROUP BY dim, k
ORDER BY dim, n DESC, k
LIMIT ? BY dim`
	// The earliest posts of the topic, looked up by key in posts.
	// args: topic, from, to, limit, limit
	samplesOf = `SELECT argMax(id, ingested), argMax(source, ingested), argMax(platform, ingested), argMax(url, ingested),
    argMax(canonical_url, ingested), argMax(author, ingested), argMax(lang, ingested), argMax(title, ingested),
    argMax(text, ingested), argMax(published, (ingested, published)) AS post_published, argMax(fetched, ingested), h
FROM posts
WHERE h IN (`
	samplesEnd = `)
GROUP BY h
ORDER BY post_published, h
LIMIT ?`
	qSpreadSamples = samplesOf + `
    SELECT post_h FROM topic_posts WHERE` + spreadWhere + `
    GROUP BY post_h ORDER BY argMax(ts, (ingested, ts)), post_h LIMIT ?` + samplesEnd
	// The same when every post is one row (qSpreadCheck): the first rows
	// by time are the first posts, a top-n sort instead of a GROUP BY.
	qSpreadEarliest = samplesOf + `
    SELECT post_h FROM topic_posts WHERE` + spreadWhere + `
    ORDER BY ts, post_h LIMIT ?` + samplesEnd
	// args: topic, from, to, limit
	// GROUP BY, not DISTINCT: 18.16 returns a value once per stream for
	// DISTINCT ... ORDER BY when matches has several parts.
	qSpreadFacts = `SELECT fact_id FROM matches
WHERE post_h IN (SELECT post_h FROM topic_posts WHERE` + spreadWhere + `)
GROUP BY fact_id
ORDER BY fact_id
LIMIT ?`

	factsLatest = `SELECT id,
    argMax(claim, version) AS l_claim, argMax(title, version) AS l_title, argMax(summary, version) AS l_summary,
    argMax(lang, version) AS l_lang, argMax(verdict, version) AS l_verdict, argMax(rating, version) AS l_rating,
    argMax(publisher, version) AS l_publisher, argMax(url, version) AS l_url, argMax(date, version) AS l_date,
    argMax(tags, version) AS l_tags, argMax(translation_langs, version) AS l_tlangs,
    argMax(translation_texts, version) AS l_ttexts, argMax(updated, version) AS l_updated,
    argMax(deleted, version) AS l_deleted
FROM facts`
	factsColumns = `SELECT id, l_claim, l_title, l_summary, l_lang, l_verdict, l_rating, l_publisher, l_url, l_date,
    l_tags, l_tlangs, l_ttexts, l_updated FROM (`
	// args: q x4, verdict x2, lang x2, offset, limit
	qFacts = factsColumns + factsLatest + ` GROUP BY id)
WHERE l_deleted = 0
    AND (? = '' OR positionCaseInsensitiveUTF8(l_claim, ?) > 0 OR positionCaseInsensitiveUTF8(l_title, ?) > 0
        OR positionCaseInsensitiveUTF8(l_summary, ?) > 0)
    AND (? = '' OR l_verdict = ?) AND (? = '' OR l_lang = ?)
ORDER BY l_updated DESC, id
LIMIT ?, ?`
	// args: id
	qFact = factsColumns + factsLatest + ` WHERE id = ? GROUP BY id) WHERE l_deleted = 0`

	sourcesLatest = `SELECT id, argMax(kind, version) AS l_kind, argMax(url, version) AS l_url,
    argMax(name, version) AS l_name, argMax(lang, version) AS l_lang, argMax(interval_ms, version) AS l_interval,
    argMax(enabled, version) AS l_enabled, argMax(option_keys, version) AS l_okeys,
    argMax(option_values, version) AS l_ovalues, argMax(created, version) AS l_created,
    argMax(deleted, version) AS l_deleted
FROM sources GROUP BY id`
	qSources = `SELECT id, l_kind, l_url, l_name, l_lang, l_interval, l_enabled, l_okeys, l_ovalues, l_created
FROM (` + sourcesLatest + `) WHERE l_deleted = 0 ORDER BY id`
	qSourceStatuses = `SELECT source_id, argMax(last_attempt, version), argMax(last_success, version),
    argMax(last_error, version), argMax(last_error_at, version), argMax(failures, version),
    argMax(items_per_day, version), argMax(next_poll, version), argMax(last_new_items, version)
FROM source_status GROUP BY source_id ORDER BY source_id`

	// args: state x2, fact x2, offset, limit
	qCases = `SELECT id, l_fact, l_state, l_severity, l_opened, l_updated, l_version, l_body FROM (
    SELECT id, argMax(fact_id, version) AS l_fact, argMax(state, version) AS l_state,
        argMax(severity, version) AS l_severity, argMax(opened, version) AS l_opened,
        argMax(updated, version) AS l_updated, max(version) AS l_version, argMax(body, version) AS l_body
    FROM cases GROUP BY id
)
WHERE (? = '' OR l_state = ?) AND (? = '' OR l_fact = ?)
ORDER BY l_updated DESC, id
LIMIT ?, ?`
	// One case by id, its latest version. args: id
	qCase = `SELECT id, argMax(fact_id, version), argMax(state, version), argMax(severity, version),
    argMax(opened, version), argMax(updated, version), max(version), argMax(body, version)
FROM cases WHERE id = ? GROUP BY id`
	// The latest version of each flag in the window, newest first.
	// args: from, to, kind x2, topic x2, limit
	qFlags = `SELECT topic, kind, ts, argMax(score, version), argMax(posts, version), argMax(authors, version),
    argMax(post_ids, version)
FROM trend_flags
WHERE ts >= toDateTime(?) AND ts < toDateTime(?) AND (? = '' OR kind = ?) AND (? = '' OR topic = ?)
GROUP BY topic, kind, ts
ORDER BY ts DESC, topic, kind
LIMIT ?`

	// args: case id
	qCaseEvents = `SELECT id, min(time) AS first_time, any(actor), any(action), any(detail)
FROM case_events WHERE case_id = ?
GROUP BY id
ORDER BY first_time, id`
)

// Queries returns every statement by name, for tests that run them all.
func Queries() map[string]string {
	return map[string]string{
		"create_migrations":    qCreateMigrations,
		"applied_migrations":   qAppliedMigrations,
		"record_migration":     qRecordMigration,
		"insert_posts":         qInsertPosts,
		"insert_topic_posts":   qInsertTopicPosts,
		"insert_matches":       qInsertMatches,
		"insert_facts":         qInsertFacts,
		"insert_alerts":        qInsertAlerts,
		"insert_sources":       qInsertSources,
		"insert_source_status": qInsertSourceStatus,
		"insert_cases":         qInsertCases,
		"insert_case_events":   qInsertCaseEvents,
		"count_posts":          qCountPosts,
		"count_posts_uniq":     qCountPostsUniq,
		"trends_top":           qTrendsTop,
		"trends_recent":        qTrendsRecent,
		"trends_baseline":      qTrendsBaseline,
		"trend_series":         qTrendSeries,
		"trend_series_rows":    qTrendSeriesRows,
		"timeline":             qTimeline,
		"timeline_rows":        qTimelineRows,
		"spread_check":         qSpreadCheck,
		"spread_totals":        qSpreadTotals,
		"spread_lists":         qSpreadLists,
		"spread_keys":          qSpreadKeys,
		"spread_samples":       qSpreadSamples,
		"spread_earliest":      qSpreadEarliest,
		"spread_facts":         qSpreadFacts,
		"facts":                qFacts,
		"fact":                 qFact,
		"sources":              qSources,
		"source_statuses":      qSourceStatuses,
		"cases":                qCases,
		"case":                 qCase,
		"case_events":          qCaseEvents,
		"insert_flags":         qInsertFlags,
		"flags":                qFlags,
	}
}
