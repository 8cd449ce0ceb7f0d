-- topic_minute (002) ranked the ragged minutes at a window's ends. Under the
-- pipeline's load its view cost more server CPU than topic_posts itself:
-- most topic keys are rare, so the view wrote about one aggregate row per
-- topic row, and merged them again. Trends now ranks by topic_hour over the
-- whole hours covering the window, a looser upper bound of the same kind
-- (see trendsTop in read.go), and counts the candidates exactly as before.
DROP TABLE IF EXISTS topic_minute_mv;
DROP TABLE IF EXISTS topic_minute
