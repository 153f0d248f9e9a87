//! A MySQL source as its URL: the fingerprint a resume compares (the server and database,
//! without the password) and the plan's `${SOURCE_DATABASE_URL:-…}` for it.

use sha2::{Digest, Sha256};

use crate::engines::url::PlanSource;
use crate::url::{redact_url, without_password};

/// A server has no file to look at: its schema and exact row counts (in the catalog) stand
/// for its content, with the server and database it is.
pub(crate) fn fingerprint_into(url: &str, h: &mut Sha256) {
    h.update(without_password(url).as_bytes());
}

/// `${SOURCE_DATABASE_URL:-<url without its password>}`, named after the database.
pub(crate) fn for_plan(mysql: &str) -> PlanSource {
    let database = mysql
        .rsplit_once('/')
        .map_or("source", |(_, db)| db.split('?').next().unwrap_or("source"))
        .to_owned();
    PlanSource {
        url: format!("${{SOURCE_DATABASE_URL:-{}}}", without_password(mysql)),
        stem: database,
        password_left_out: redact_url(mysql) != mysql,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_names_a_mysql_source_by_its_database_and_leaves_its_password_out() {
        let with = for_plan("mysql://app:secret@db.example:3306/shop?ssl-mode=required");
        assert_eq!(with.stem, "shop");
        assert!(with.password_left_out);
        assert!(!with.url.contains("secret"), "{}", with.url);
        assert!(with
            .url
            .starts_with("${SOURCE_DATABASE_URL:-mysql://app@db.example"));
        let without = for_plan("mysql://app@db.example/shop");
        assert!(!without.password_left_out);
        assert_eq!(
            without.url,
            "${SOURCE_DATABASE_URL:-mysql://app@db.example/shop}"
        );
    }
}
