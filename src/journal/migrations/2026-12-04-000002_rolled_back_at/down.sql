ALTER TABLE decant.runs DROP COLUMN rolled_back_at;
