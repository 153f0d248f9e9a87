//! Error chains on one line, for messages that must say what failed and the database's reason.

/// `what failed: why: deeper why`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A database error with what PostgreSQL adds to its message: the detail (e.g. the duplicated
/// key) and the hint; other errors as their chain.
pub fn database_chain(e: &diesel::result::Error) -> String {
    let mut text = chain(e);
    if let diesel::result::Error::DatabaseError(_, info) = e {
        if let Some(detail) = info.details() {
            text.push_str(&format!(" (detail: {detail})"));
        }
        if let Some(hint) = info.hint() {
            text.push_str(&format!(" (hint: {hint})"));
        }
    }
    text
}
