//! What the rest of the code may ask about a source engine ([`Engine`], the catalog's tag):
//! its facts and habits, answered here so no module outside `engines/` matches a variant.

use crate::catalog::{Column, Engine, Table};
use crate::engines::{mysql, postgres, sqlite};

impl Engine {
    /// The folder of its templates under `templates/`.
    pub fn dialect(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Mysql => "mysql",
            Engine::Postgres => "postgres",
        }
    }

    /// The engine whose templates are in `templates/<dialect>/`.
    pub fn from_dialect(dialect: &str) -> Option<Engine> {
        [Engine::Sqlite, Engine::Mysql, Engine::Postgres]
            .into_iter()
            .find(|e| e.dialect() == dialect)
    }

    /// Its name as messages write it.
    pub fn display_name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Mysql => "MySQL",
            Engine::Postgres => "PostgreSQL",
        }
    }

    /// Whether a table without a primary key still names its rows (SQLite's `rowid`).
    pub fn has_rowid(self) -> bool {
        match self {
            Engine::Sqlite => true,
            Engine::Mysql | Engine::Postgres => false,
        }
    }

    /// Whether `table` is a SQLite `WITHOUT ROWID` table (carried as an ordinary table with
    /// its primary key).
    pub fn without_rowid(self, table: &Table) -> bool {
        match self {
            Engine::Sqlite => table.without_rowid,
            Engine::Mysql | Engine::Postgres => false,
        }
    }

    /// What makes a UNIQUE case-insensitive on this engine, as a warning says it.
    pub fn case_insensitive_unique(self) -> &'static str {
        match self {
            Engine::Sqlite => "uses COLLATE NOCASE",
            Engine::Mysql => "has a case-insensitive (`_ci`) collation",
            Engine::Postgres => "uses a nondeterministic collation",
        }
    }

    /// Whether the built-in mapping of `column` depends on its values, so every command
    /// profiles it: SQLite's columns without a type or of an unsigned integer type. MySQL
    /// enforces its declared types: no mapping depends on the values.
    pub fn mapping_depends_on_values(self, column: &Column) -> bool {
        match self {
            Engine::Sqlite => sqlite::types::decided_by_values(column),
            Engine::Mysql | Engine::Postgres => false,
        }
    }

    /// Whether the source's declared types tell which values an app's narrower column types
    /// would cut (MySQL's DATETIME into `date`, text into a shorter `varchar(n)`), so they are
    /// counted before a run.
    pub fn declares_narrowable_types(self) -> bool {
        match self {
            Engine::Sqlite | Engine::Postgres => false,
            Engine::Mysql => true,
        }
    }

    /// Whether introspection without exact counts estimates the row counts (MySQL's
    /// `information_schema`), so a run counts the rows in its snapshot instead.
    pub fn estimates_row_counts(self) -> bool {
        match self {
            Engine::Sqlite => false,
            Engine::Mysql | Engine::Postgres => true,
        }
    }

    /// Whether a column declared `declared` is spatial (MySQL's geometry types), read as WKB.
    pub fn is_spatial(self, declared: &str) -> bool {
        match self {
            Engine::Sqlite | Engine::Postgres => false,
            Engine::Mysql => mysql::types::is_spatial(declared),
        }
    }

    /// Whether a column declared `declared` is handed over as text rather than in its own
    /// form (MySQL's TIME, which may be negative or past 24 hours).
    pub fn reads_as_text(self, declared: &str) -> bool {
        match self {
            Engine::Sqlite => false,
            Engine::Mysql => {
                declared.to_ascii_lowercase().starts_with("time")
                    && !declared.to_ascii_lowercase().starts_with("timestamp")
            }
            Engine::Postgres => postgres::source::reads_as_text(declared),
        }
    }

    /// Whether a big table is read faster in key ranges on several connections sharing one
    /// snapshot: a server's (MySQL's client holds one query's result; a PostgreSQL backend
    /// reads, encodes and sends one query's rows on one core), where SQLite streams in process.
    pub fn reads_key_ranges_side_by_side(self) -> bool {
        match self {
            Engine::Sqlite => false,
            Engine::Mysql | Engine::Postgres => true,
        }
    }

    /// Whether reads on more connections run side by side (a server's), where SQLite's reads
    /// in one process only get in each other's way.
    pub fn reads_side_by_side(self) -> bool {
        match self {
            Engine::Sqlite => false,
            Engine::Mysql | Engine::Postgres => true,
        }
    }

    /// Whether numbers may arrive as their digits in text (MySQL's DECIMAL, and every SUM).
    pub fn sends_numbers_as_digits(self) -> bool {
        match self {
            Engine::Sqlite => false,
            Engine::Mysql | Engine::Postgres => true,
        }
    }
}
