DROP TABLE decant.source_windows;
