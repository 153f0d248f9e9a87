//! SQLite expressions (CHECKs, generated columns, index expressions, partial-index predicates)
//! rewritten for PostgreSQL with target names; what cannot be translated is refused with a reason.

use std::collections::HashMap;

pub use crate::dialect::quote_ident;

/// How source columns appear in the target.
#[derive(Debug, Clone, Default)]
pub struct ExpressionContext {
    /// Source column name (lowercased) → (target name, target is boolean).
    columns: HashMap<String, (String, bool)>,
    /// Source columns that became jsonb: `json_valid(col)` is then guaranteed by the type.
    json_columns: Vec<String>,
}

impl ExpressionContext {
    pub fn add_column(&mut self, source: &str, target: &str, is_boolean: bool, is_json: bool) {
        self.columns
            .insert(source.to_lowercase(), (target.to_owned(), is_boolean));
        if is_json {
            self.json_columns.push(source.to_lowercase());
        }
    }
}

/// A token of SQLite expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Space,
    Word(String),
    QuotedIdent(String),
    Str(String),
    Number(String),
    Blob(String),
    Op(String),
}

/// Operators SQLite spells with two characters.
const TWO_CHARACTER_OPERATORS: &[&str] = &["==", "!=", "<>", "<=", ">=", "||", "<<", ">>"];

/// Splits SQLite expression text into tokens with the introspection tokenizer; a gap between
/// tokens (white space or a comment) becomes one `Space`. `Err` on an unterminated quote.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    use super::ddl::{self, TokenKind};
    let raw = ddl::tokenize(text).map_err(|e| format!("{} in `{text}`", e.message))?;
    let mut out = Vec::with_capacity(raw.len() * 2);
    let mut previous_end = 0;
    for t in raw {
        let piece = &text[t.start..t.end];
        if t.start > previous_end {
            out.push(Token::Space);
        } else if let (TokenKind::Punct, Some(Token::Op(op))) = (t.kind, out.last_mut()) {
            let pair = format!("{op}{piece}");
            if TWO_CHARACTER_OPERATORS.contains(&pair.as_str()) {
                *op = pair;
                previous_end = t.end;
                continue;
            }
        }
        out.push(match t.kind {
            TokenKind::Word => Token::Word(piece.to_owned()),
            TokenKind::Quoted => Token::QuotedIdent(ddl::dequote(piece)),
            TokenKind::String => Token::Str(ddl::dequote(piece)),
            TokenKind::Blob => Token::Blob(piece[2..piece.len() - 1].to_owned()),
            TokenKind::Number => Token::Number(piece.to_owned()),
            TokenKind::Punct => Token::Op(piece.to_owned()),
        });
        previous_end = t.end;
    }
    Ok(out)
}

/// Writes the tokens both rewrites emit alike: spaces and literals.
fn push_literal(token: &Token, out: &mut String) {
    match token {
        Token::Space => out.push(' '),
        Token::Str(s) => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        Token::Number(n) => out.push_str(n),
        Token::Blob(hex) => out.push_str(&format!("'\\x{hex}'::bytea")),
        Token::Word(_) | Token::QuotedIdent(_) | Token::Op(_) => {}
    }
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "null", "between", "like", "case", "when", "then", "else",
    "end", "cast", "as", "true", "false", "escape", "exists", "distinct", "integer", "text",
    "real", "numeric",
];

/// Words SQLite reserves: in a query they are syntax unless quoted (a quoted one is a
/// `QuotedIdent`), so a bare one is the key word even when some table has a column of that name.
const RESERVED: &[&str] = &[
    "all",
    "and",
    "as",
    "between",
    "case",
    "check",
    "collate",
    "constraint",
    "create",
    "default",
    "deferrable",
    "distinct",
    "else",
    "escape",
    "except",
    "exists",
    "foreign",
    "from",
    "group",
    "having",
    "in",
    "index",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "limit",
    "not",
    "notnull",
    "null",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "returning",
    "select",
    "set",
    "table",
    "then",
    "to",
    "union",
    "unique",
    "using",
    "values",
    "when",
    "where",
];

/// Whether the bare word at `i` is SQL syntax rather than a name. Besides the reserved
/// words, SQLite lets some key words double as names (`end`, `desc`, `left`, `by`); those are
/// told apart by where they stand.
fn is_query_keyword(tokens: &[Token], i: usize, lower: &str, open_cases: usize) -> bool {
    if RESERVED.contains(&lower) {
        return true;
    }
    let word_at = |t: Option<&Token>| match t {
        Some(Token::Word(w)) => Some(w.to_lowercase()),
        _ => None,
    };
    let previous = tokens[..i].iter().rev().find(|t| **t != Token::Space);
    let next = tokens[i + 1..].iter().find(|t| **t != Token::Space);
    // An operand just ended: a name, a literal, or a closing parenthesis (but not a key word
    // such as `BY`, after which a name comes).
    let after_operand = match previous {
        Some(Token::Word(w)) => {
            !RESERVED.contains(&w.to_lowercase().as_str()) && !w.eq_ignore_ascii_case("by")
        }
        Some(Token::QuotedIdent(_) | Token::Str(_) | Token::Number(_) | Token::Blob(_)) => true,
        Some(Token::Op(op)) => op == ")",
        _ => false,
    };
    match lower {
        "end" => open_cases > 0 && after_operand,
        "asc" | "desc" => after_operand,
        "by" => matches!(
            word_at(previous).as_deref(),
            Some("group" | "order" | "partition")
        ),
        "left" | "right" | "full" | "inner" | "outer" | "cross" | "natural" => matches!(
            word_at(next).as_deref(),
            Some("join" | "outer" | "inner" | "left" | "right" | "full" | "cross")
        ),
        _ => false,
    }
}

/// Functions that mean the same in both engines.
const SAME_FUNCTIONS: &[&str] = &[
    "lower", "upper", "length", "abs", "coalesce", "nullif", "trim", "ltrim", "rtrim", "replace",
    "substr",
];

/// Rewrites the SELECT of a SQLite view for PostgreSQL: every identifier that names a carried
/// table or column becomes its quoted target name (`names`: lowercased source name → target
/// name), `==` becomes `=`, `LIKE` becomes `ILIKE`, `ifnull` becomes `coalesce`. Functions and
/// syntax PostgreSQL lacks are left for PostgreSQL to refuse, with its reason, at run time.
pub fn translate_query(query: &str, names: &HashMap<String, String>) -> Result<String, String> {
    let tokens = tokenize(query)?;
    let mut out = String::with_capacity(query.len() + 32);
    let next_significant = |from: usize| tokens[from..].iter().find(|t| **t != Token::Space);
    // CASE … END pairs open at this point, so `END` is told from a column named `end`.
    let mut open_cases = 0usize;
    // A column alias of a select list (`SUM(x) AS Subtotal`) keeps its case, quoted, as the
    // app queries the view by it (SQLite ignores the case; PostgreSQL would fold it), and so
    // does every later mention of it (`ORDER BY Subtotal`).
    let mut depth = 0usize;
    let mut select_list_at: Vec<usize> = Vec::new();
    let mut aliases: HashMap<String, String> = HashMap::new();
    let previous_word = |i: usize| match tokens[..i].iter().rev().find(|t| **t != Token::Space) {
        Some(Token::Word(w)) => Some(w.to_lowercase()),
        _ => None,
    };
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Space | Token::Str(_) | Token::Number(_) | Token::Blob(_) => {
                push_literal(token, &mut out)
            }
            Token::Op(op) if op == "==" => out.push('='),
            Token::Op(op) if op == ";" => return Err("a view's SELECT holds a `;`".to_owned()),
            Token::Op(op) => {
                if op == "(" {
                    depth += 1;
                } else if op == ")" {
                    depth = depth.saturating_sub(1);
                    select_list_at.retain(|d| *d <= depth);
                }
                out.push_str(op)
            }
            Token::QuotedIdent(name) => match names.get(&name.to_lowercase()) {
                Some(target) => out.push_str(&quote_ident(target)),
                None => out.push_str(&quote_ident(name)),
            },
            Token::Word(word) => {
                let lower = word.to_lowercase();
                let is_call = next_significant(i + 1) == Some(&Token::Op("(".into()));
                if is_call {
                    out.push_str(if lower == "ifnull" { "coalesce" } else { word });
                } else if lower == "like" {
                    out.push_str("ILIKE");
                } else if is_query_keyword(&tokens, i, &lower, open_cases) {
                    // Checked before the names: a column called `from` somewhere must not
                    // turn the key word FROM into the identifier "from".
                    if lower == "case" {
                        open_cases += 1;
                    } else if lower == "end" {
                        open_cases = open_cases.saturating_sub(1);
                    } else if lower == "select" {
                        select_list_at.push(depth);
                    } else if lower == "from" && select_list_at.last() == Some(&depth) {
                        select_list_at.pop();
                    }
                    out.push_str(word);
                } else if select_list_at.last() == Some(&depth)
                    && previous_word(i).as_deref() == Some("as")
                {
                    aliases.insert(lower, word.clone());
                    out.push_str(&quote_ident(word));
                } else if let Some(target) = names.get(&lower) {
                    out.push_str(&quote_ident(target));
                } else if let Some(alias) = aliases.get(&lower) {
                    out.push_str(&quote_ident(alias));
                } else {
                    out.push_str(word);
                }
            }
        }
    }
    Ok(out.trim().to_owned())
}

/// The SELECT of a `CREATE VIEW name [(columns)] AS SELECT …` statement.
pub fn view_select(create_view: &str) -> Option<String> {
    let tokens = tokenize(create_view).ok()?;
    let mut depth = 0usize;
    let mut text = String::new();
    let mut found = false;
    for token in &tokens {
        if found {
            text.push_str(&token_text(token));
            continue;
        }
        match token {
            Token::Op(op) if op == "(" => depth += 1,
            Token::Op(op) if op == ")" => depth = depth.saturating_sub(1),
            Token::Word(w) if depth == 0 && w.eq_ignore_ascii_case("as") => found = true,
            _ => {}
        }
    }
    found.then(|| text.trim().trim_end_matches(';').trim().to_owned())
}

/// A token as SQLite text again.
fn token_text(token: &Token) -> String {
    match token {
        Token::Space => " ".to_owned(),
        Token::Word(w) | Token::Number(w) | Token::Op(w) => w.clone(),
        Token::QuotedIdent(n) => quote_ident(n),
        Token::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Token::Blob(h) => format!("X'{h}'"),
    }
}

/// Rewrites a SQLite expression for PostgreSQL.
pub fn translate(expr: &str, ctx: &ExpressionContext) -> Result<String, String> {
    let tokens = tokenize(expr)?;
    let mut out = String::with_capacity(expr.len() + 16);
    let next_significant = |from: usize| tokens[from..].iter().find(|t| **t != Token::Space);
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Space | Token::Str(_) | Token::Number(_) | Token::Blob(_) => {
                push_literal(token, &mut out)
            }
            Token::Op(op) => match op.as_str() {
                "==" => out.push('='),
                ";" => return Err("a `;` inside an expression".to_owned()),
                _ => out.push_str(op),
            },
            Token::QuotedIdent(name) => match ctx.columns.get(&name.to_lowercase()) {
                Some((target, is_bool)) => out.push_str(&column_ref(target, *is_bool)),
                None => return Err(format!("`{name}` is not a column of the table")),
            },
            Token::Word(word) => {
                let lower = word.to_lowercase();
                let is_call = !KEYWORDS.contains(&lower.as_str())
                    && next_significant(i + 1) == Some(&Token::Op("(".into()));
                if is_call {
                    match lower.as_str() {
                        f if SAME_FUNCTIONS.contains(&f) => out.push_str(f),
                        "ifnull" => out.push_str("coalesce"),
                        "min" => out.push_str("least"),
                        "max" => out.push_str("greatest"),
                        "json_valid" => return Err("uses `json_valid`; a `jsonb` column enforces valid JSON itself".to_owned()),
                        other => return Err(format!("uses `{other}()`, which PostgreSQL does not have with the same meaning")),
                    }
                } else if let Some((target, is_bool)) = ctx.columns.get(&lower) {
                    out.push_str(&column_ref(target, *is_bool));
                } else if lower == "like" {
                    // SQLite's LIKE ignores ASCII case.
                    out.push_str("ILIKE");
                } else if lower == "glob"
                    || lower == "regexp"
                    || lower == "match"
                    || lower == "collate"
                {
                    return Err(format!(
                        "uses `{}`, which has no direct PostgreSQL equivalent",
                        lower.to_uppercase()
                    ));
                } else if KEYWORDS.contains(&lower.as_str()) {
                    out.push_str(&lower.to_uppercase());
                } else {
                    return Err(format!("`{word}` is not a column of the table"));
                }
            }
        }
    }
    Ok(out.trim().to_owned())
}

/// A reference to a target column; booleans read as integers so SQLite's `flag = 1` still holds.
fn column_ref(target: &str, is_boolean: bool) -> String {
    if is_boolean {
        format!("({}::int)", quote_ident(target))
    } else {
        quote_ident(target)
    }
}

/// True when the expression only asserts `json_valid(<column>)` on a column that became jsonb.
pub fn is_json_valid_of_json_column(expr: &str, ctx: &ExpressionContext) -> bool {
    let Ok(tokens) = tokenize(expr) else {
        return false;
    };
    let significant: Vec<&Token> = tokens.iter().filter(|t| **t != Token::Space).collect();
    match significant.as_slice() {
        [Token::Word(f), Token::Op(open), col, Token::Op(close)]
            if f.eq_ignore_ascii_case("json_valid") && open == "(" && close == ")" =>
        {
            let name = match col {
                Token::Word(n) | Token::QuotedIdent(n) => n.to_lowercase(),
                _ => return false,
            };
            ctx.json_columns.contains(&name)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ExpressionContext {
        let mut c = ExpressionContext::default();
        c.add_column("role", "role", false, false);
        c.add_column("isActive", "is_active", true, false);
        c.add_column("price", "price", false, false);
        c.add_column("prefs", "prefs", false, true);
        c.add_column("first name", "first_name", false, false);
        c
    }

    #[test]
    fn checks_are_rewritten_with_target_names_and_quoted() {
        assert_eq!(
            translate("role IN ('client','freelancer')", &ctx()).as_deref(),
            Ok("\"role\" IN ('client','freelancer')")
        );
        assert_eq!(
            translate("price >= 0 AND price == price", &ctx()).as_deref(),
            Ok("\"price\" >= 0 AND \"price\" = \"price\"")
        );
        assert_eq!(
            translate("\"first name\" <> ''", &ctx()).as_deref(),
            Ok("\"first_name\" <> ''")
        );
        assert_eq!(
            translate("length(trim([first name])) > 0", &ctx()).as_deref(),
            Ok("length(trim(\"first_name\")) > 0")
        );
    }

    #[test]
    fn boolean_columns_compare_as_integers_like_sqlite_did() {
        assert_eq!(
            translate("isActive IN (0, 1)", &ctx()).as_deref(),
            Ok("(\"is_active\"::int) IN (0, 1)")
        );
    }

    #[test]
    fn like_keeps_sqlite_case_insensitivity_and_functions_are_mapped() {
        assert_eq!(
            translate("role like 'a%'", &ctx()).as_deref(),
            Ok("\"role\" ILIKE 'a%'")
        );
        assert_eq!(
            translate("ifnull(price, 0) > max(1, 2)", &ctx()).as_deref(),
            Ok("coalesce(\"price\", 0) > greatest(1, 2)")
        );
    }

    #[test]
    fn a_select_lists_aliases_keep_their_case_and_casts_keep_their_types() {
        let names: HashMap<String, String> = [("orderid", "order_id"), ("unitprice", "unit_price")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let sql = translate_query(
            "SELECT OrderID, CAST(SUM(UnitPrice) AS INTEGER) AS Subtotal, (SELECT 1 AS One) AS Inner FROM Orders AS o GROUP BY OrderID ORDER BY Subtotal",
            &names,
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT \"order_id\", CAST(SUM(\"unit_price\") AS INTEGER) AS \"Subtotal\", (SELECT 1 AS \"One\") AS \"Inner\" FROM Orders AS o GROUP BY \"order_id\" ORDER BY \"Subtotal\""
        );
    }

    #[test]
    fn key_words_in_a_view_stay_key_words_when_a_column_has_their_name() {
        let names: HashMap<String, String> = [
            "from", "select", "t", "id", "end", "desc", "by", "left", "order",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), k.to_owned()))
        .collect();
        assert_eq!(
            translate_query(
                "SELECT id, \"from\" FROM t WHERE id > 1 ORDER BY id",
                &names
            )
            .as_deref(),
            Ok("SELECT \"id\", \"from\" FROM \"t\" WHERE \"id\" > 1 ORDER BY \"id\"")
        );
        // Key words SQLite also takes as names are names where a name stands.
        assert_eq!(
            translate_query(
                "SELECT CASE WHEN id > 1 THEN end ELSE desc END AS x FROM t LEFT JOIN t AS u ON 1 ORDER BY desc DESC, left",
                &names
            )
            .as_deref(),
            Ok("SELECT CASE WHEN \"id\" > 1 THEN \"end\" ELSE \"desc\" END AS \"x\" FROM \"t\" LEFT JOIN \"t\" AS u ON 1 ORDER BY \"desc\" DESC, \"left\"")
        );
    }

    #[test]
    fn untranslatable_expressions_say_why() {
        assert!(translate("typeof(price) = 'integer'", &ctx())
            .unwrap_err()
            .contains("typeof"));
        assert!(translate("role GLOB 'a*'", &ctx())
            .unwrap_err()
            .contains("GLOB"));
        assert!(translate("nosuch > 1", &ctx())
            .unwrap_err()
            .contains("`nosuch`"));
        assert!(is_json_valid_of_json_column("json_valid(prefs)", &ctx()));
        assert!(!is_json_valid_of_json_column("json_valid(role)", &ctx()));
    }
}
