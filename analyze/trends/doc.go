// Package trends turns posts into topic keys and decides, per key, when a
// topic is rising: the trend half of the analyzer, free of Kafka and
// ClickHouse so that `trendwatch detect`, `trendwatch eval trends` and the
// analyzer workers run the very same code.
//
// Topic keys (Keys) are a pure function of one post: hashtags, canonical
// URLs (internal/urlcanon), named entities and key phrases from analyze/text
// (language-aware stopwords, stemming and Vietnamese syllable phrases),
// near-duplicate story clusters and matched fact ids. Story clusters use
// MinHash with LSH banding over folded content-word shingles: every band of
// the signature is itself a key, so two processes that never talk give a
// repost the same cluster key. MinHash is written here (a few lines over
// FNV-1a and splitmix64) rather than imported: the libraries we looked at
// hash with per-process random seeds, which would break that property.
//
// The Detector consumes (time, topic, post, author) events. Flags for a key
// depend only on that key's events, processed in event-time order once a
// watermark (latest event time minus the allowed lateness) has passed them,
// so partitioning the keys across any number of processes yields the same
// flags as one process. Each author counts at most once per topic per
// AuthorWindow, so one account posting a hundred times is one voice. A key
// younger than Warmup has no baseline and can only be flagged "emerging"
// (enough distinct authors in a short sliding window); an older key is
// flagged "burst" when its sliding-window count exceeds an EWMA baseline of
// per-bucket counts by BurstZ standard deviations (the variance taken as at
// least the mean: counts are at least Poisson-dispersed). A flag silences
// its key for Cooldown; idle keys are forgotten after IdleTTL (the same
// logical reset happens whether or not the state was evicted, so eviction
// never changes a flag) and MaxTopics caps memory, evicting the least
// recently active keys first — only that cap, reached under memory
// pressure, makes one key's flags depend on others.
//
// Evaluate replays the propagation data as the shared data README
// describes; see its doc for how a flag is attributed to a cascade.
package trends
