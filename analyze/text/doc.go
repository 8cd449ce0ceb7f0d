// Package text turns social-media posts, news items and fact-check claims
// into normalised terms for matching and topic keys, in Vietnamese, French
// and English.
//
// Pipeline (Analyze): social clean-up (links, @handles, #hashtags split on
// case, "RT @x:", HTML entities, emoji, the trailing tweet signature
// "— Name (@handle) Month D, YYYY") → Unicode NFC and lower-case folding →
// tokenisation (numbers keep their separators: "1,000" → "1000") →
// language identification → per-language terms:
//
//   - vi: teencode and abbreviations of posts are spelt out first ("ko dc"
//     → "không được", "hn" → "hà nội"; teencode.go, unambiguous ones only,
//     without diacritics in unaccented text); every syllable is kept with
//     and without diacritics (đ → d), and adjacent folded syllables form
//     bigrams ("ha_noi"), because posts often arrive unaccented and
//     Vietnamese words span several syllables. Stopwords are judged as
//     written: accented text on the accented list, so "bàn" (goal) stays
//     although it folds to "ban" like the stopword "bạn"; text without any
//     diacritics on the folded list, which leaves out folds shared with
//     content words;
//   - fr: elision (l', d', qu', j', jusqu'…) is removed, stopwords dropped,
//     accents folded and words stemmed with Snowball;
//   - en: stopwords dropped, Snowball (Porter2) stemming;
//   - und: stopwords of all three languages dropped, accents folded, no
//     stemming.
//
// Phrase units (Units, phrase.go) for topic keys come from a committed
// table of collocations, names, titles and document frequencies,
// phrases.tsv.gz, rebuilt by:
//
//	D=../shared/data
//	go run ./cmd/trendwatch train phrases \
//	  --facts $D/checkthat2020/verified_claims.docs.tsv,$D/checkthat2022/vclaims.jsonl \
//	  --texts "$D/vi-news/*.jsonl" --out analyze/text/phrases.tsv.gz
//
// Libraries: github.com/kljensen/snowball (pure-Go Snowball stemmers, the
// reference algorithms for English and French, no cgo);
// golang.org/x/text/unicode/norm (NFC/NFD); github.com/abadojack/whatlanggo
// (trigram language identification, small and dependency-free). DetectLang
// first looks at cheap, decisive evidence — Vietnamese-only letters and
// stopword profiles, which also recognise unaccented Vietnamese that
// trigram models miss — and asks whatlanggo only when that is ambiguous.
// lingua-go v1.4.0 was measured against this (8 candidate languages, 571
// vi-news headlines each accented and unaccented, 202 CheckThat! 2022
// tweets): lingua recognised 933/1142 Vietnamese (it misses unaccented
// text) and 201/202 English at ~190 µs a text after loading +122 MB of
// models; DetectLang recognised 1107/1142 and 201/202 at ~25–50 µs
// worst-case mix (about 2 µs when the stopword profile decides) with no
// model files. whatlanggo alone misreads many short posts, hence the
// profile step in front of it.
// Text in a language it does not handle is "und": function words of German,
// Portuguese, Spanish, Italian and Dutch outnumbering ours decide it, and a
// single one leaves the choice to whatlanggo. On the captured feeds, heise
// (German) went from 8 of 15 items "und" (the rest forced to fr, en, vi)
// to 15, UOL (Portuguese) from 2 to 12 of 15; vi-news 2026-08-20 headlines
// accented and unaccented stay 1124/1158 "vi", CheckThat! 2022 devtest
// tweets 201/202 "en".
package text
