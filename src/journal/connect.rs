//! Connecting to the target: the URL shown without its password and libpq's reason, and the
//! database created first when `run --create-database` asks for it.

use crate::dialect::quote_ident;
use crate::engines::TargetConnection;
use crate::url::{mask_passwords, redact_url, with_database};

use super::{query_error, JournalError};

/// Opens a connection to the target; the error shows the URL without its password and
/// libpq's reason, and says how to create the database when the server has none of that name.
pub fn connect(url: &str) -> Result<TargetConnection, JournalError> {
    TargetConnection::establish(url).map_err(|e| connect_error(url, &e))
}

fn connect_error(url: &str, e: &diesel::ConnectionError) -> JournalError {
    // libpq's message spans lines ("connection to server at … failed: FATAL:  …").
    let reason = mask_passwords(url, &e.to_string())
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let missing_database = missing_database(&reason);
    let help = missing_database.as_ref().map(|name| {
        format!(
            "create it with `psql '{}' -c 'CREATE DATABASE {}'` (or `createdb`), or let `decant run --create-database` create it",
            redact_url(&with_database(url, "postgres")),
            quote_ident(name)
        )
    });
    JournalError::Connect {
        url: redact_url(url),
        reason,
        help,
        missing_database,
    }
}

/// The name in libpq's `database "x" does not exist`.
fn missing_database(reason: &str) -> Option<String> {
    let start = reason.find("database \"")? + "database \"".len();
    let rest = &reason[start..];
    let end = rest.find("\" does not exist")?;
    Some(rest[..end].to_owned())
}

/// Connects to the target, first creating its database when the server has none of that
/// name (`run --create-database`); says whether it created one.
pub fn connect_creating_database(
    url: &str,
) -> Result<(TargetConnection, Option<String>), JournalError> {
    use diesel::connection::SimpleConnection;
    let name = match connect(url) {
        Ok(conn) => return Ok((conn, None)),
        Err(JournalError::Connect {
            missing_database: Some(name),
            ..
        }) => name,
        Err(e) => return Err(e),
    };
    let server = with_database(url, "postgres");
    let mut admin = connect(&server)?;
    let sql = crate::dialect::Templates::new(None).render(
        &crate::dialect::target_template("create_database"),
        minijinja::context! { name },
    )?;
    admin.batch_execute(&sql).map_err(query_error(&sql))?;
    Ok((connect(url)?, Some(name)))
}
