//! The target side of a migration: one connection type over every database decant writes,
//! with what the layers above need from it — statements, transactions, the bulk loader and
//! the read-back stream for checksums.
//!
//! PostgreSQL is the one target today. Its variant is reached through [`TargetConnection`]
//! everywhere above this layer; the SQL that is PostgreSQL's own (the journal's statements,
//! the catalog reads of `engines::postgres::introspect`, the checks' queries) takes the inner
//! connection with [`TargetConnection::postgres`], so a second target finds each place that
//! speaks PostgreSQL by that one name. Templates for it are found by
//! `dialect::target_template`.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::{Connection, ConnectionResult, QueryResult};

use super::count::{count_with, CountError};

/// An open target database.
pub enum TargetConnection {
    Postgres(PgConnection),
}

impl TargetConnection {
    /// Opens `url` (a `postgres://` or `postgresql://` URL).
    pub fn establish(url: &str) -> ConnectionResult<TargetConnection> {
        PgConnection::establish(url).map(TargetConnection::Postgres)
    }

    /// The dialect its templates are written in (`templates/<dialect>/`).
    pub fn dialect(&self) -> &'static str {
        match self {
            TargetConnection::Postgres(_) => "postgres",
        }
    }

    /// The PostgreSQL connection, for SQL that is PostgreSQL's own: the journal, the catalog
    /// reads, typed queries of the checks.
    pub fn postgres(&mut self) -> &mut PgConnection {
        match self {
            TargetConnection::Postgres(c) => c,
        }
    }

    /// The rows of `from` (SQL after FROM: a schema-qualified, quoted table) that `filter` lets
    /// through; every row without one.
    pub fn count_rows(&mut self, from: &str, filter: Option<&str>) -> Result<u64, CountError> {
        #[derive(diesel::QueryableByName)]
        struct Counted {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        count_with(from, filter, |sql| {
            diesel::RunQueryDsl::get_result::<Counted>(diesel::sql_query(sql), self.postgres())
                .map(|c| Some(c.n))
        })
    }

    /// Whether `table` (schema-qualified and quoted, as written in SQL) holds no row. Not a
    /// count: one row answers it, where [`Self::count_rows`] reads them all.
    pub fn holds_no_rows(&mut self, table: &str) -> QueryResult<bool> {
        #[derive(diesel::QueryableByName)]
        struct Empty {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            empty: bool,
        }
        let sql = format!("SELECT NOT EXISTS (SELECT 1 FROM {table}) AS empty");
        let row: Empty = diesel::RunQueryDsl::get_result(diesel::sql_query(sql), self.postgres())?;
        Ok(row.empty)
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
    /// Inside another transaction it is a savepoint.
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut TargetConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.transaction_begun_by(None, f)
    }

    /// [`Self::transaction`] in a transaction that may write nothing.
    pub fn read_only_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut TargetConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.transaction_begun_by(Some("BEGIN TRANSACTION READ ONLY"), f)
    }

    /// Diesel's own transaction logic (savepoints when nested, a rollback that keeps the
    /// first error), with the whole target connection handed to `f`.
    fn transaction_begun_by<T, E, F>(&mut self, begin: Option<&str>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut TargetConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match begin {
            Some(sql) => AnsiTransactionManager::begin_transaction_sql(self.postgres(), sql)?,
            None => AnsiTransactionManager::begin_transaction(self.postgres())?,
        }
        match f(self) {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(self.postgres())?;
                Ok(value)
            }
            Err(error) => match AnsiTransactionManager::rollback_transaction(self.postgres()) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}

/// Looks up one type by its SQL spelling (as `format_type` wrote it, qualified where needed).
pub const TYPE_OID: &str = "SELECT $1::regtype::oid AS oid";

#[derive(diesel::QueryableByName)]
struct TypeOid {
    #[diesel(sql_type = diesel::sql_types::Oid)]
    oid: u32,
}

impl TargetConnection {
    /// The OID of the type spelled `type_sql` in this database ([`TYPE_OID`]): binary COPY
    /// names an array's element type by it, and an app's own type has its database's OID.
    pub fn type_oid(&mut self, type_sql: &str) -> QueryResult<u32> {
        use diesel::RunQueryDsl;
        diesel::sql_query(TYPE_OID)
            .bind::<diesel::sql_types::Text, _>(type_sql)
            .get_result::<TypeOid>(self.postgres())
            .map(|t| t.oid)
    }
}

impl SimpleConnection for TargetConnection {
    fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        self.postgres().batch_execute(sql)
    }
}
