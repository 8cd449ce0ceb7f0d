// Package claims answers the rapid-response team's first question about a
// post — "has this claim already been checked?" — by matching it against an
// in-memory index of fact-checks, in Vietnamese, French and English, on
// CPU and offline.
//
// Ranking is two-stage:
//
//  1. BM25F over three fields of each fact (claim + translations, title,
//     summary + tags) on the terms of analyze/text (stems;
//     Vietnamese syllables with and without diacritics plus syllable
//     bigrams). The best Options.Candidates (default 40) go on.
//  2. A logistic-regression re-ranker over 21 features of each candidate:
//     BM25F total, relative and per field, first-stage rank, phrase
//     evidence (shared term bigrams), character-trigram cosine and claim
//     coverage, claim-term coverage, number overlap and mismatch,
//     named-entity overlap (capitalised words, acronyms), overlap of the
//     tweet signature's name/handle with the fact, closeness of the
//     tweet's date to the fact-check's date, and post length. Its output
//     is the probability that the candidate checks the post — learnt on
//     labelled candidates, so it is a calibrated 0–1 confidence that the
//     per-language alert thresholds (Options.Thresholds, Index.Thresholds)
//     apply to.
//
// The model is model.json, embedded with go:embed. It is trained on the
// shared *train* splits only (CheckThat! 2020 train and 2022 train), the L2
// penalty chosen by 5-fold cross-validation on MAP@5 over training queries,
// by this command run from the repository root:
//
//	D=../shared/data
//	go run ./cmd/trendwatch train match \
//	  --facts $D/checkthat2020/verified_claims.docs.tsv,$D/checkthat2022/vclaims.jsonl \
//	  --queries $D/checkthat2020/train/tweets.queries.tsv,$D/checkthat2022/train-dev.queries.tsv \
//	  --qrels $D/checkthat2020/train/tweet-vclaim-pairs.qrels,$D/checkthat2022/train.qrels.tsv \
//	  --out analyze/claims/model.json
//
// (train-dev.queries.tsv holds dev tweets too, but only tweets in
// train.qrels are labelled, so only they are used.) The command, the
// chosen penalty and the cross-validated MAP@5 are recorded in the file.
//
// Why not neural models: published systems reach 0.91 MAP@5 on CheckThat!
// 2020 with fine-tuned transformers, which need a GPU or hundreds of
// milliseconds per post on CPU. Here everything is pure Go with no model
// files beyond a few hundred bytes of weights.
//
// Concurrency: Match takes a read lock; Upsert analyses the fact before
// taking the write lock; Delete marks a document dead and compaction
// renumbers documents once dead ones outnumber live ones.
package claims
