DROP TABLE decant.table_baselines;
