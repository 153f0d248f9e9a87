DROP TABLE decant.decant_rejects;
DROP TABLE decant.steps;
DROP TABLE decant.runs;
