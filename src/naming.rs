//! How source identifiers become target identifiers: `preserve`, `snake_case`, `lower`,
//! plus explicit renames, and PostgreSQL's 63-byte identifier limit.

use crate::plan::model::IdentifierCase;

/// PostgreSQL truncates identifiers longer than this many bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Applies the plan's naming rule to one identifier.
pub fn apply_case(name: &str, case: IdentifierCase) -> String {
    match case {
        IdentifierCase::Preserve => name.to_owned(),
        IdentifierCase::Lower => name.to_lowercase(),
        IdentifierCase::SnakeCase => snake_case(name),
    }
}

/// `createdAt` → `created_at`, `HTTPStatus` → `http_status`, `Order Items` → `order_items`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                let boundary = prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_is_lower);
                if boundary && !out.ends_with('_') {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        name.to_lowercase()
    } else {
        out
    }
}

/// A constraint or index name from a table and its columns, kept within 63 bytes: when too
/// long, it is cut and ends with a short hash so two long names stay distinct.
pub fn derived_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = String::from(table);
    for c in columns {
        name.push('_');
        name.push_str(c);
    }
    name.push('_');
    name.push_str(suffix);
    fit_identifier(&name)
}

/// Cuts an identifier to 63 bytes, ending it with an 8-hex hash of the full name when cut.
pub fn fit_identifier(name: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_owned();
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut cut = MAX_IDENTIFIER_BYTES - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

/// The name PostgreSQL keeps for `name`: its first 63 bytes, cut before a character that would
/// not fit whole (PostgreSQL never splits one). Two names that keep the same are one name there.
pub fn stored_identifier(name: &str) -> &str {
    let mut cut = name.len().min(MAX_IDENTIFIER_BYTES);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    &name[..cut]
}

/// Matches `text` against a glob with `*` and `?`; `case_insensitive` folds ASCII and Unicode case.
pub fn glob_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_identifiers_keep_63_bytes_without_splitting_a_character() {
        assert_eq!(stored_identifier("short"), "short");
        let long = "a".repeat(70);
        assert_eq!(stored_identifier(&long), &long[..63]);
        // `é` is two bytes; at bytes 62..64 it does not fit and is left out whole.
        let accented = format!("{}é", "a".repeat(62));
        assert_eq!(stored_identifier(&accented), "a".repeat(62));
    }

    #[test]
    fn snake_case_splits_camel_case_acronyms_and_spaces() {
        let cases = [
            ("createdAt", "created_at"),
            ("HTTPStatus", "http_status"),
            ("userID", "user_id"),
            ("Order Items", "order_items"),
            ("already_snake", "already_snake"),
            ("Customer", "customer"),
            ("address2", "address2"),
            ("iso8601Date", "iso8601_date"),
            ("isKYCVerified", "is_kyc_verified"),
            ("__weird--Name__", "weird_name"),
        ];
        for (input, expected) in cases {
            assert_eq!(snake_case(input), expected, "snake_case({input:?})");
        }
    }

    #[test]
    fn lower_and_preserve_follow_the_rule() {
        assert_eq!(
            apply_case("OrderItems", IdentifierCase::Lower),
            "orderitems"
        );
        assert_eq!(
            apply_case("OrderItems", IdentifierCase::Preserve),
            "OrderItems"
        );
    }

    #[test]
    fn long_names_are_cut_to_63_bytes_and_stay_distinct() {
        let a = derived_name(
            "a_very_long_table_name_for_testing",
            &["first_long_column".into(), "second_long_column_a".into()],
            "key",
        );
        let b = derived_name(
            "a_very_long_table_name_for_testing",
            &["first_long_column".into(), "second_long_column_b".into()],
            "key",
        );
        assert!(a.len() <= 63 && b.len() <= 63);
        assert_ne!(a, b);
        assert_eq!(
            derived_name("users", &["email".into()], "key"),
            "users_email_key"
        );
    }

    #[test]
    fn glob_matches_star_and_question_mark() {
        assert!(glob_match("sqlite_*", "sqlite_sequence", false));
        assert!(glob_match("*.external_id", "users.external_id", false));
        assert!(!glob_match("*.external_id", "users.external_ids", false));
        assert!(glob_match("DATE?IME", "datetime", true));
        assert!(glob_match("*", "", false));
        assert!(!glob_match("users", "Users", false));
    }
}
