-- The mirror keeps every field of a fact, so an edit that starts from
-- the stored fact (the dashboard's form, an appended appearance) loses
-- nothing: the appearances, posts confirmed to restate the fact, were
-- the one field it lacked. 18.16 has no ADD COLUMN IF NOT EXISTS;
-- Migrate skips this statement when the column is already there (a
-- migration interrupted after it ran).
ALTER TABLE facts ADD COLUMN appearances Array(String) AFTER translation_texts
