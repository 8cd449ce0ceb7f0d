-- A collector's verdict on a source (healthy, failing, silent), the kind
-- of its last error (so the dashboard can say it in the reader's
-- language) and the source's own title (feeds added without a name).
-- One column per statement: Migrate skips an ADD COLUMN already applied.
ALTER TABLE source_status ADD COLUMN health String DEFAULT '' AFTER last_new_items;
ALTER TABLE source_status ADD COLUMN health_detail String DEFAULT '' AFTER health;
ALTER TABLE source_status ADD COLUMN error_kind String DEFAULT '' AFTER health_detail;
ALTER TABLE source_status ADD COLUMN title String DEFAULT '' AFTER error_kind
