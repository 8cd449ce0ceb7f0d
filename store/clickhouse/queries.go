package clickhouse

import "fmt"

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
//     version) per id, or a sum of compacted hours' such counts, never a
//     bare count() over a table that may still hold unmerged re-deliveries
//     (Spread counts rows only once the check says every post is one row in
//     each hour); the rollups' delivery counts only rank (upper bounds, see
//     trendsTop), they are never shown.
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
    translation_langs, translation_texts, appearances, updated, deleted, version)`
	qInsertAlerts = `INSERT INTO alerts (key, fact_id, post_id, verdict, claim, fact_url, score, lang, platform, source,
    author, post_url, post_title, post_text, published, detected, ingested)`
	qInsertSources = `INSERT INTO sources (id, kind, url, name, lang, interval_ms, enabled, option_keys, option_values,
    created, deleted, version)`
	qInsertSourceStatus = `INSERT INTO source_status (source_id, last_attempt, last_success, last_error, last_error_at,
    failures, items_per_day, next_poll, last_new_items, health, health_detail, error_kind, title, version)`
	qInsertCases      = `INSERT INTO cases (id, fact_id, state, severity, opened, updated, version, body)`
	qInsertCaseEvents = `INSERT INTO case_events (case_id, id, time, actor, action, detail)`
	qInsertFlags      = `INSERT INTO trend_flags (topic, kind, ts, score, posts, authors, post_ids, version)`
	qInsertLabels     = `INSERT INTO topic_labels (topic, label, day, posts)`

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
	// of its posts in the window (one or more rows each) that is cheap to
	// merge. Grouped by the topic's cityHash64, not the string: a day holds
	// ~650k topics in ~5M rollup rows, and the fixed-size key cuts the
	// ranking's CPU by ~28% (two topics sharing a hash, odds ~1e-7 among
	// 2M, would rank as one).
	// args: hours x2, lang x2, platform x2, min posts, limit
	qTrendsTop = `SELECT any(topic) AS t, sumMerge(deliveries) AS upper
FROM topic_hour
WHERE hour >= toDateTime(?) AND hour < toDateTime(?)` + langPlat + `
GROUP BY cityHash64(topic)
HAVING upper >= ?
ORDER BY upper DESC, t
LIMIT ?`

	// Trends' exact counts, series and authors add compacted hours
	// (topic_hour_exact, migration 009) to raw ranges of topic_posts,
	// split by a plan (plan.go); the statements are built per request by
	// countsSQL and authorsSQL, and Queries lists an instance of each.

	// Exact distinct authors of topics whose sketch says they have few (see
	// Trends): a sketch is off by one or two even at twenty authors, which
	// shows, while an exact set of a small topic is cheap.
	// args: topics (GroupSet), start, end, lang x2, platform x2
	qTrendAuthorsExact = `SELECT topic, uniqExactIf(cityHash64(author), author != '')
FROM topic_posts
WHERE topic IN ? AND minute >= toDateTime(?) AND minute < toDateTime(?)` + langPlat + `
GROUP BY topic`

	// The compactor's bookkeeping. args: from, to
	qHourDeliveries = `SELECT hour, sumMerge(deliveries) FROM hour_deliveries
WHERE hour >= toDateTime(?) AND hour < toDateTime(?)
GROUP BY hour`
	// The topic rows inserted for the last hours: it grows with every
	// write, so a cached dashboard answer keyed by it is never older than
	// the data. args: from
	qDataVersion = `SELECT sumMerge(deliveries) FROM hour_deliveries WHERE hour >= toDateTime(?)`
	// args: span, from, to
	qCompactions = `SELECT start, argMax(deliveries, version), max(version) FROM compactions
WHERE span = ? AND start >= toDateTime(?) AND start < toDateTime(?)
GROUP BY start`
	qInsertCompactions = `INSERT INTO compactions (start, span, deliveries, version)`
	// The compactor's statements read a batch of hours of one day in one
	// pass, grouped by hour: topic_posts is ordered by topic, so even one
	// hour's rows are spread over its whole day partition (compacting hour
	// by hour read each day ~12 times over). %s is the batch's hours
	// (Unix hours, compactHours); from and to are the batch's span.

	// Exact counts: a row per (topic, hour, language, platform) and one
	// per (topic, hour) ('*', '*'). args: version, from, to, twice.
	qCompactHours = `INSERT INTO topic_hour_exact (topic, hour, lang, platform, posts, topic_rows, first_ts, last_ts, authors, version)
SELECT topic, toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS hr, lang, platform, uniqExact(post_h), count(), min(ts), max(ts),
    uniqHLL12StateIf(cityHash64(author), author != ''), toUInt64(?)
FROM topic_posts
WHERE minute >= toDateTime(?) AND minute < toDateTime(?) AND intDiv(toUInt32(minute), 3600) IN (%[1]s)
GROUP BY topic, hr, lang, platform
UNION ALL
SELECT topic, toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS hr, '*', '*', uniqExact(post_h), count(), min(ts), max(ts),
    uniqHLL12StateIf(cityHash64(author), author != ''), toUInt64(?)
FROM topic_posts
WHERE minute >= toDateTime(?) AND minute < toDateTime(?) AND intDiv(toUInt32(minute), 3600) IN (%[1]s)
GROUP BY topic, hr`
	// Spread's lists (see spreadKeysSQL), of the topics' hours with at
	// least keyRowsMin rows: a small topic-hour has about as many keys as
	// rows (five lists), cheap to read raw but most of the compactor's
	// writes. %[2]d is keyRowsMin. args: version, then from, to four
	// times.
	qCompactHourKeys = `INSERT INTO topic_hour_keys (topic, hour, dim, key, topic_rows, version)
SELECT topic, hr, dim, k, sum(c), toUInt64(?)
FROM (
    SELECT topic, toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS hr, [1] AS dims, [author] AS keys, count() AS c
` + busyHourRows + `    GROUP BY topic, hr, author
    UNION ALL
    SELECT topic, toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS hr, [2, 3, 4, 5] AS dims,
        [source, domain, lang, platform] AS keys, count() AS c
` + busyHourRows + `    GROUP BY topic, hr, source, domain, lang, platform
)
ARRAY JOIN dims AS dim, keys AS k
WHERE k != '' OR dim >= 4
GROUP BY topic, hr, dim, k`
	// Matched facts per topic and hour: the hours' matched posts (a set of
	// ~2% of them) joined to their facts. args: version, then from, to
	// twice.
	qCompactHourFacts = `INSERT INTO topic_hour_facts (topic, hour, fact_id, version)
SELECT topic, hr, fact_id, toUInt64(?)
FROM (
    SELECT topic, toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS hr, post_h
    FROM topic_posts
    WHERE minute >= toDateTime(?) AND minute < toDateTime(?) AND intDiv(toUInt32(minute), 3600) IN (%[1]s)
    GROUP BY topic, hr, post_h
) AS tp
ALL INNER JOIN (
    SELECT post_h, fact_id FROM matches
    WHERE post_h IN (
        SELECT post_h FROM topic_posts
        WHERE minute >= toDateTime(?) AND minute < toDateTime(?) AND intDiv(toUInt32(minute), 3600) IN (%[1]s)
    )
    GROUP BY post_h, fact_id
) AS m USING post_h
GROUP BY topic, hr, fact_id`
	// One day's authors from its 24 compacted hours (%s: their pins).
	// args: day, version
	qCompactDay = `INSERT INTO topic_day_authors (topic, day, lang, platform, authors, version)
SELECT topic, toDateTime(?), lang, platform, uniqHLL12MergeState(authors), toUInt64(?)
FROM topic_hour_exact
WHERE %s
GROUP BY topic, lang, platform`

	// A post counts once in each hour it has rows in (migration 009): the
	// raw queries below count the same unit as the compacted hours.
	// A post counts in the bucket of its first minute in the hour, so a
	// re-delivery with a different time in the hour counts it once.
	// args: origin, step, topic, from, to
	qTimeline = `SELECT intDiv(toUInt32(first_minute) - ?, ?) AS bucket, count() AS n
FROM (
    SELECT post_h, min(minute) AS first_minute
    FROM topic_posts
    WHERE topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)
    GROUP BY post_h, intDiv(toUInt32(minute), 3600)
)
GROUP BY bucket
ORDER BY bucket`

	// Timeline when every post is one row in each hour (see SpreadWith):
	// a row count per bucket. args: as qTimeline
	qTimelineRows = `SELECT intDiv(toUInt32(minute) - ?, ?) AS bucket, count() AS n
FROM topic_posts
WHERE topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)
GROUP BY bucket
ORDER BY bucket`

	spreadWhere = ` topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)`
	// Spread's first question, whether every post is one row in each hour
	// of the range, is answered by spreadCheckSQL from the compacted hours'
	// posts and rows and a raw check of the rest. When it holds, the
	// per-post dedupe of the exact queries (a GROUP BY per post and hour, a
	// hash table of every post) is a no-op: SpreadWith then counts rows
	// instead (qSpreadKeys, qSpreadEarliest, qTimelineRows).
	// args: topic, from, to
	// Keys are counted by their cityHash64 (a fixed-size set, cheaper than
	// one of strings; collisions among even 1M keys have odds of ~3e-8).
	// Each post counts once in each hour it has rows in (migration 009),
	// with its latest delivery's values there (as the lists do):
	// a re-delivery that moved the post within its minute replaces the
	// older row on merge, so min(ts) over rows would change once merged.
	// Ties in ingested (one second) go to the later time, deterministically.
	qSpreadTotals = `SELECT count(), uniqExactIf(cityHash64(a), a != ''), uniqExactIf(cityHash64(s), s != ''),
    uniqExactIf(cityHash64(d), d != ''), min(t), max(t)
FROM (
    SELECT argMax(author, ingested) AS a, argMax(source, ingested) AS s, argMax(domain, ingested) AS d, argMax(ts, (ingested, ts)) AS t
    FROM topic_posts
    WHERE` + spreadWhere + `
    GROUP BY post_h, intDiv(toUInt32(minute), 3600)
)`
	// Every list of a spread in one scan: each post once per hour (its
	// latest delivery's values there), fanned out to one row per list by ARRAY JOIN, then
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
    GROUP BY post_h, intDiv(toUInt32(minute), 3600)
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
	// The same when every post is one row in each hour (spreadCheckSQL): the first rows
	// by time are the first posts, a top-n sort instead of a GROUP BY.
	qSpreadEarliest = samplesOf + `
    SELECT post_h FROM topic_posts WHERE` + spreadWhere + `
    ORDER BY ts, post_h LIMIT ?` + samplesEnd
	factsLatest = `SELECT id,
    argMax(claim, version) AS l_claim, argMax(title, version) AS l_title, argMax(summary, version) AS l_summary,
    argMax(lang, version) AS l_lang, argMax(verdict, version) AS l_verdict, argMax(rating, version) AS l_rating,
    argMax(publisher, version) AS l_publisher, argMax(url, version) AS l_url, argMax(date, version) AS l_date,
    argMax(tags, version) AS l_tags, argMax(translation_langs, version) AS l_tlangs,
    argMax(translation_texts, version) AS l_ttexts, argMax(appearances, version) AS l_apps,
    argMax(updated, version) AS l_updated,
    argMax(deleted, version) AS l_deleted
FROM facts`
	factsColumns = `SELECT id, l_claim, l_title, l_summary, l_lang, l_verdict, l_rating, l_publisher, l_url, l_date,
    l_tags, l_tlangs, l_ttexts, l_apps, l_updated FROM (`
	// args: q x4, verdict x2, lang x2, offset, limit
	qFacts = factsColumns + factsLatest + ` GROUP BY id)
WHERE l_deleted = 0
    AND (? = '' OR positionCaseInsensitiveUTF8(l_claim, ?) > 0 OR positionCaseInsensitiveUTF8(l_title, ?) > 0
        OR positionCaseInsensitiveUTF8(l_summary, ?) > 0)
    AND (? = '' OR l_verdict = ?) AND (? = '' OR l_lang = ?)
ORDER BY l_updated DESC, id
LIMIT ?, ?`
	// Every live fact's searchable text, most recently updated first, for
	// facts search (web folds and filters it in Go). args: verdict x2, lang x2
	qFactTexts = `SELECT id, l_claim, l_title, l_summary, l_lang, l_tags, l_ttexts FROM (` + factsLatest + ` GROUP BY id)
WHERE l_deleted = 0 AND (? = '' OR l_verdict = ?) AND (? = '' OR l_lang = ?)
ORDER BY l_updated DESC, id`
	// args: ids
	qFactsByID = factsColumns + factsLatest + ` WHERE id IN ? GROUP BY id) WHERE l_deleted = 0`
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
    argMax(items_per_day, version), argMax(next_poll, version), argMax(last_new_items, version),
    argMax(health, version), argMax(health_detail, version), argMax(error_kind, version), argMax(title, version)
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

	// The spellings of listed topics, most frequent first, at most
	// maxLabelCandidates each (a story's headlines, a phrase's spellings;
	// labels.go picks one). args: topics (GroupSet)
	qTopicLabels = `SELECT topic, label, sum(posts) AS n
FROM topic_labels
WHERE topic IN ?
GROUP BY topic, label
ORDER BY topic, n DESC, label
LIMIT 40 BY topic`
	// A fact topic's label: the mirror's latest claim and verdict.
	// args: fact ids (GroupSet)
	qFactLabels = `SELECT id, l_claim, l_title, l_verdict FROM (
    SELECT id, argMax(claim, version) AS l_claim, argMax(title, version) AS l_title,
        argMax(verdict, version) AS l_verdict, argMax(deleted, version) AS l_deleted
    FROM facts WHERE id IN ? GROUP BY id
)
WHERE l_deleted = 0`
	// Support of Trends' candidates: their distinct non-empty sources and
	// authors in the window (see trendSupport). args: topics (GroupSet),
	// start, end, lang x2, platform x2
	qTrendSupport = `SELECT topic, uniqExactIf(cityHash64(source), source != ''), uniqExactIf(cityHash64(author), author != '')
FROM topic_posts
WHERE topic IN ? AND minute >= toDateTime(?) AND minute < toDateTime(?)` + langPlat + `
GROUP BY topic`
	// The first hour the store holds posts of: how much history a
	// baseline can have (see trendRates). hour_deliveries is a row per hour.
	qFirstHour = `SELECT toUInt32(min(hour)), count() FROM hour_deliveries`

	// args: case id
	qCaseEvents = `SELECT id, min(time) AS first_time, any(actor), any(action), any(detail)
FROM case_events WHERE case_id = ?
GROUP BY id
ORDER BY first_time, id`
)

// sampleHour anchors the instances of per-request statements in Queries:
// 2026-03-10 08:00 UTC, compacted at version 1 (chdb_test.go's data).
const sampleHour = 1773129600

// Queries returns every statement by name, for tests that run them all;
// statements built per request appear as one instance each.
func Queries() map[string]string {
	h, day := int64(sampleHour), int64(sampleHour-8*hourSecs)
	p := plan{pins: []pin{{h, 1}}, raw: []span{{h - 6*hourSecs, h - 3*hourSecs}, {h - 3*hourSecs, h}}}
	authors, _ := authorsSQL(authorPlan{days: []pin{{day, 1}}, hours: p}, view{})
	return map[string]string{
		"hour_deliveries":        qHourDeliveries,
		"data_version":           qDataVersion,
		"compactions":            qCompactions,
		"insert_compactions":     qInsertCompactions,
		"compact_1_hour":         fmt.Sprintf(qCompactHours, compactHours(p.pins)),
		"compact_1_hour_keys":    fmt.Sprintf(qCompactHourKeys, compactHours(p.pins), 1), // the sample hour has one row
		"compact_1_hour_facts":   fmt.Sprintf(qCompactHourFacts, compactHours(p.pins)),
		"compact_2_day":          fmt.Sprintf(qCompactDay, pinsSQL("hour", p.pins)),
		"spread_keys_compacted":  spreadKeysSQL(p),
		"spread_key_hours":       keyHoursSQL(p),
		"spread_facts_compacted": spreadFactsSQL(p),
		"topic_counts":           countsSQL(p, view{}, buckets{h, 300}),
		"topic_counts_filtered":  countsSQL(p, view{lang: "vi"}, buckets{}),
		"topic_authors":          authors,
		"trend_authors_exact":    qTrendAuthorsExact,
		"spread_check":           spreadCheckSQL(p),
		"create_migrations":      qCreateMigrations,
		"applied_migrations":     qAppliedMigrations,
		"record_migration":       qRecordMigration,
		"insert_posts":           qInsertPosts,
		"insert_topic_posts":     qInsertTopicPosts,
		"insert_matches":         qInsertMatches,
		"insert_facts":           qInsertFacts,
		"insert_alerts":          qInsertAlerts,
		"insert_sources":         qInsertSources,
		"insert_source_status":   qInsertSourceStatus,
		"insert_cases":           qInsertCases,
		"insert_case_events":     qInsertCaseEvents,
		"count_posts":            qCountPosts,
		"count_posts_uniq":       qCountPostsUniq,
		"trends_top":             qTrendsTop,
		"timeline":               qTimeline,
		"timeline_rows":          qTimelineRows,
		"spread_totals":          qSpreadTotals,
		"spread_lists":           qSpreadLists,
		"spread_samples":         qSpreadSamples,
		"spread_earliest":        qSpreadEarliest,
		"facts":                  qFacts,
		"fact":                   qFact,
		"fact_texts":             qFactTexts,
		"facts_by_id":            qFactsByID,
		"sources":                qSources,
		"source_statuses":        qSourceStatuses,
		"cases":                  qCases,
		"case":                   qCase,
		"case_events":            qCaseEvents,
		"insert_flags":           qInsertFlags,
		"insert_labels":          qInsertLabels,
		"topic_labels":           qTopicLabels,
		"fact_labels":            qFactLabels,
		"trend_support":          qTrendSupport,
		"first_hour":             qFirstHour,
		"flags":                  qFlags,
		"table_partitions":       qTablePartitions,
		"table_sizes":            qTableSizes,
		"count_old_posts":        qCountOldPosts,
		"delete_old_posts":       qDeleteOldPosts,
		"drop_partition":         fmt.Sprintf(qDropPartition, "matches", "202603"),
	}
}

// busyHourRows is the FROM and WHERE of qCompactHourKeys' two branches:
// topic rows of the hours %[1]s whose topic-hour has at least %[2]d rows.
// args: from, to twice.
const busyHourRows = `    FROM topic_posts
    WHERE minute >= toDateTime(?) AND minute < toDateTime(?) AND intDiv(toUInt32(minute), 3600) IN (%[1]s)
        AND (topic, intDiv(toUInt32(minute), 3600)) IN (
            SELECT topic, intDiv(toUInt32(minute), 3600) FROM topic_posts
            WHERE minute >= toDateTime(?) AND minute < toDateTime(?) AND intDiv(toUInt32(minute), 3600) IN (%[1]s)
            GROUP BY topic, intDiv(toUInt32(minute), 3600)
            HAVING count() >= %[2]d
        )
`
