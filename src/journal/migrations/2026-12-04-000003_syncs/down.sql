DROP TABLE decant.syncs;
ALTER TABLE decant.runs DROP COLUMN schema_hash;
