-- Display forms of topics. Topic identity is the folded key (`kw:bao
-- yagi`); a post also says how it spelled the topic (schema.Analyzed's
-- Labels: "bão Yagi", its headline for a story, "#BaoYagi", a page
-- title). The writer counts each (topic, label, UTC day) of a batch once
-- per post and SummingMergeTree adds the counts as parts merge, so a
-- topic's spellings cost one row each per day however many posts carry
-- them (an aggregate-function state would cost more to write and merge
-- for a plain sum). Readers sum(posts) per label anyway, so unmerged parts
-- answer the same. A re-delivered post counts its spelling twice: labels
-- only choose among spellings by frequency, where that is noise, and no
-- count shown comes from here. Ordered by topic first: Trends asks for
-- the labels of a few listed topics. By day, so old spellings can be
-- dropped a month at a time.
CREATE TABLE IF NOT EXISTS topic_labels (
    topic String,
    label String,
    day DateTime,
    posts UInt64
) ENGINE = SummingMergeTree(posts)
PARTITION BY toYYYYMM(day)
ORDER BY (topic, label, day)
