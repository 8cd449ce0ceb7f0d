package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// seedSQL fills an empty store with n synthetic posts over the 7 days from
// start, generated inside ClickHouse (INSERT ... SELECT FROM numbers()), so
// 10M posts take minutes instead of the hour a round trip through Go would.
// The shape is meant to be realistic for the benchmarks, not the bytes:
//   - 3 to 7 topics per post (5 on average): 1-2 hashtags drawn from 50k,
//     2 keywords from 200k, 1 entity from 20k and, for 80% of posts, their
//     link's path from 2M. Every draw is log-uniform over the vocabulary,
//     the continuous form of Zipf's law with s = 1: the top hashtag is in
//     ~8% of posts, the median one in a handful;
//   - authors log-uniform over 100k (10% anonymous), 40 sources, 5
//     platforms, 4 languages (one empty), 8 link domains;
//   - a quarter of the posts match one of 500 facts.
//
// Posts go in by chunk; topic_posts and matches are derived from the
// chunk's posts with the same rules WriteAnalyzed applies (distinct
// topics, domain without "www.", minute of the published time), and the
// materialized views fill the rollups exactly as in production.
func seedSQL(ctx context.Context, s *Store, n int, start time.Time, logf func(string, ...any)) error {
	const chunk = 1_000_000
	ingested := time.Now().UTC().Unix()
	u := func(salt int) string { // uniform in [0, 1) from the post number
		return fmt.Sprintf("(intHash64(n * 32 + %d) %% 1000003) / 1000003.", salt)
	}
	logUniform := func(salt, vocab int) string { // 1..vocab, P(k) ~ 1/k
		return fmt.Sprintf("toUInt32(exp(%s * log(%d)))", u(salt), vocab)
	}
	for off := 0; off < n; off += chunk {
		size := min(chunk, n-off)
		t := time.Now()
		q := `INSERT INTO posts (h, id, source, platform, url, canonical_url, author, lang, title, text,
    published, fetched, likes, shares, replies, topics, fact_ids, ingested)
SELECT cityHash64(pid), pid, src, plat, link, '', auth, lng, concat('title ', pid),
    concat('text of post ', pid, ' tiếng Việt, français'), pub, pub + 60,
    toInt64(intHash64(n * 32 + 9) % 100), toInt64(intHash64(n * 32 + 10) % 20), toInt64(intHash64(n * 32 + 11) % 10),
    arraySort(arrayDistinct(arrayFilter(x -> x != '', tps))), facts, toDateTime(INGESTED)
FROM (
    SELECT n, concat('s', toString(n)) AS pid,
        concat('src', toString(intHash64(n * 32 + 1) % 40)) AS src,
        ['rss', 'web', 'mastodon', 'bluesky', 'telegram'][intHash64(n * 32 + 2) % 5 + 1] AS plat,
        ['vi', 'fr', 'en', ''][intHash64(n * 32 + 3) % 4 + 1] AS lng,
        if(intHash64(n * 32 + 4) % 10 = 0, '', concat('user', toString(AUTHOR))) AS auth,
        toDateTime(START + intHash64(n * 32 + 5) % 604800) AS pub,
        ['vnexpress.net', 'www.lemonde.fr', 'tuoitre.vn', 'thanhnien.vn', 'www.bbc.com', 'afp.com', 'example.org', 'news.example.com'][intHash64(n * 32 + 6) % 8 + 1] AS dom,
        if(intHash64(n * 32 + 7) % 5 = 0, '', concat('https://', dom, '/a/', toString(LINK))) AS link,
        [concat('#t', toString(TAG1)), if(intHash64(n * 32 + 8) % 2 = 0, concat('#t', toString(TAG2)), ''),
         concat('kw:w', toString(KW1)), concat('kw:w', toString(KW2)), concat('ent:e', toString(ENT)),
         if(link = '', '', concat('url:', replaceRegexpOne(link, '^https://(www[.])?', '')))] AS tps,
        if(intHash64(n * 32 + 12) % 4 = 0, [concat('f', toString(intHash64(n * 32 + 13) % 500))], emptyArrayString()) AS facts
    FROM (SELECT number + OFFSET AS n FROM numbers(SIZE))
)`
		for k, v := range map[string]string{
			"INGESTED": fmt.Sprint(ingested), "START": fmt.Sprint(start.Unix()),
			"OFFSET": fmt.Sprint(off), "SIZE": fmt.Sprint(size),
			"AUTHOR": logUniform(14, 100_000), "LINK": logUniform(15, 2_000_000),
			"TAG1": logUniform(20, 50_000), "TAG2": logUniform(21, 50_000),
			"KW1": logUniform(22, 200_000), "KW2": logUniform(23, 200_000), "ENT": logUniform(24, 20_000),
		} {
			q = strings.ReplaceAll(q, k, v)
		}
		if err := s.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("cannot seed posts %d..%d: %w", off, off+size, err)
		}
		chunkWhere := fmt.Sprintf(" WHERE h IN (SELECT cityHash64(concat('s', toString(number + %d))) FROM numbers(%d))", off, size)
		if err := s.conn.Exec(ctx, `INSERT INTO topic_posts (topic, minute, post_h, author, source, domain, platform, lang, ts, ingested)
SELECT tp, toStartOfMinute(published), h, author, source, domainWithoutWWW(url), platform, lang, published, ingested
FROM posts ARRAY JOIN topics AS tp`+chunkWhere); err != nil {
			return fmt.Errorf("cannot seed topic rows %d..%d: %w", off, off+size, err)
		}
		if err := s.conn.Exec(ctx, `INSERT INTO matches (post_id, post_h, fact_id, score, verdict, published, detected)
SELECT id, h, fid, (intHash64(h) % 1000) / 1000., 'false', published, ingested
FROM posts ARRAY JOIN fact_ids AS fid`+chunkWhere); err != nil {
			return fmt.Errorf("cannot seed matches %d..%d: %w", off, off+size, err)
		}
		logf("seeded posts %d..%d in %v", off, off+size, time.Since(t).Round(time.Millisecond))
	}
	return nil
}

// seedSmall adds what the dashboard's other pages read: 500 facts (the
// ids seedSQL's matches point at), 200 cases with 3 events each, 50
// sources with a status each and 2,000 trend flags over the 7 days.
func seedSmall(ctx context.Context, s *Store, start time.Time) error {
	verdicts := []string{schema.VerdictFalse, schema.VerdictMisleading, schema.VerdictMixed, schema.VerdictTrue}
	var facts []schema.Fact
	for i := range 500 {
		facts = append(facts, schema.Fact{ID: fmt.Sprintf("f%d", i), Claim: fmt.Sprintf("claim number %d about vaccines and floods", i),
			Title: fmt.Sprintf("Fact check %d", i), Lang: []string{"vi", "fr", "en"}[i%3], Verdict: verdicts[i%4],
			Publisher: "AFP", URL: fmt.Sprintf("https://factcheck.example/%d", i), Date: start.Add(time.Duration(i) * time.Hour),
			Updated: start.Add(time.Duration(i) * time.Hour), Tags: []string{"health"}})
	}
	if err := s.WriteFacts(ctx, facts); err != nil {
		return err
	}
	for i := range 200 {
		c := CaseRow{ID: fmt.Sprintf("c%d", i), FactID: fmt.Sprintf("f%d", i), State: []string{"open", "acknowledged", "resolved"}[i%3],
			Severity: "high", Opened: start.Add(time.Duration(i) * time.Minute), Updated: start.Add(time.Duration(i) * time.Hour), Body: `{"n":1}`}
		if err := s.PutCase(ctx, c); err != nil {
			return err
		}
		for k := range 3 {
			if err := s.AppendCaseEvent(ctx, CaseEvent{CaseID: c.ID, Time: c.Opened.Add(time.Duration(k) * time.Minute), Actor: "ann", Action: "note", Detail: "checked"}); err != nil {
				return err
			}
		}
	}
	for i := range 50 {
		id := fmt.Sprintf("src%d", i)
		if err := s.PutSource(ctx, schema.Source{ID: id, Kind: "feed", URL: "https://feeds.example/" + id, Enabled: true, Created: start}); err != nil {
			return err
		}
		if err := s.PutSourceStatus(ctx, schema.SourceStatus{SourceID: id, LastAttempt: start, LastSuccess: start, ItemsPerDay: 100}); err != nil {
			return err
		}
	}
	var flags []schema.Flag
	for i := range 2000 {
		flags = append(flags, schema.Flag{Time: start.Add(time.Duration(i) * 5 * time.Minute), Topic: fmt.Sprintf("#t%d", i%300+1),
			Kind: []string{"emerging", "burst"}[i%2], Score: float64(i%17) / 3, Count: 10 + i%50, Authors: 5 + i%20})
	}
	return s.WriteFlags(ctx, flags)
}
