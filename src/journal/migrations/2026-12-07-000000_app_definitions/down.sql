ALTER TABLE decant.runs DROP COLUMN app_restore_pending;
DROP TABLE decant.app_definitions;
