// Package trends turns posts into topic keys and decides, per key, when a
// topic is rising: the trend half of the analyzer, free of Kafka and
// ClickHouse so that `trendwatch detect`, `trendwatch eval trends` and the
// analyzer workers run the very same code.
//
// Topic keys (Keys) are a pure function of one post: hashtags, canonical
// URLs, the phrase units of analyze/text (learned multi-word phrases,
// names, a title before a name, French and English content words), one
// story key and matched fact ids. Identity is the folded form (case,
// diacritics, đ/d), so "bão Yagi" and "bao yagi" are one topic;
// KeysLabels also returns this post's display form of each key. A post's
// story key hashes its headline's two rarest units (by the committed
// phrase table's document frequency), so reports of one event by different
// outlets can share it; a post without a title uses up to eight, so only
// reposts and light edits share (on Twitter16 coarser keys merged separate
// cascades of one event and cost early-warning recall).
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
