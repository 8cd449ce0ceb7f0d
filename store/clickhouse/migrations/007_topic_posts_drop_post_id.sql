-- topic_posts.post_id was written for every (topic, post) row and never
-- read: post_h identifies the post (the spread's samples look posts up by
-- it). It was about a quarter of the table's bytes, and merging
-- topic_posts is most of the server's work under the pipeline's load.
-- 18.16 has no DROP COLUMN IF EXISTS; Migrate skips this statement when
-- the column is already gone (a migration interrupted after it ran).
ALTER TABLE topic_posts DROP COLUMN post_id
