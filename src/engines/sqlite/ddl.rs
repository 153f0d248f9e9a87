//! A small tokenizer and parser for the `CREATE TABLE` / `CREATE INDEX` text SQLite stores,
//! for what the pragmas do not report: CHECKs, generated expressions, COLLATE, DEFERRABLE, names.

use crate::catalog::{CheckConstraint, UniqueConstraint};

/// The stored SQL could not be read; `offset` is a byte offset into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DdlError {
    pub message: String,
    pub offset: usize,
}

impl std::fmt::Display for DdlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A bare word: a keyword or an unquoted identifier.
    Word,
    /// An identifier quoted with `""`, `[]` or backticks.
    Quoted,
    /// A string literal in single quotes.
    String,
    /// A blob literal `x'..'`.
    Blob,
    Number,
    /// One punctuation character (`(`, `)`, `,`, `.`, `-`, ...).
    Punct,
}

/// One token: its kind and its byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// Splits SQLite SQL into tokens, dropping whitespace and comments.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Token>, DdlError> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                // An unterminated comment runs to the end, as in SQLite.
                i = (i + 2).min(bytes.len());
                continue;
            }
            b'\'' => {
                i = quoted_end(bytes, i, b'\'')?;
                TokenKind::String
            }
            b'"' | b'`' => {
                i = quoted_end(bytes, i, c)?;
                TokenKind::Quoted
            }
            b'[' => {
                match bytes[i..].iter().position(|b| *b == b']') {
                    Some(n) => i += n + 1,
                    None => return Err(unterminated("identifier", start)),
                }
                TokenKind::Quoted
            }
            b'x' | b'X' if bytes.get(i + 1) == Some(&b'\'') => {
                i = quoted_end(bytes, i + 1, b'\'')?;
                TokenKind::Blob
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                TokenKind::Number
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = number_end(bytes, i);
                TokenKind::Number
            }
            c if is_word_byte(c) && !c.is_ascii_digit() && c != b'$' => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                TokenKind::Word
            }
            _ => {
                // One character, which may be several bytes long.
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                TokenKind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(tokens)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The end of a quoted token starting at `start`, where a doubled quote is an escaped quote.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> Result<usize, DdlError> {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        i += 1;
    }
    let what = if quote == b'\'' {
        "string"
    } else {
        "identifier"
    };
    Err(unterminated(what, start))
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let b = bytes[i];
        if (b == b'e' || b == b'E')
            && matches!(bytes.get(i + 1), Some(b'+' | b'-'))
            && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)
        {
            i += 3;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn unterminated(what: &str, offset: usize) -> DdlError {
    DdlError {
        message: format!("unterminated {what}"),
        offset,
    }
}

/// The name a token denotes: quotes removed and doubled quotes undoubled.
pub(crate) fn dequote(text: &str) -> String {
    let bytes = text.as_bytes();
    if text.len() >= 2 {
        let (first, last) = (bytes[0], bytes[text.len() - 1]);
        let inner = &text[1..text.len() - 1];
        match (first, last) {
            (b'"', b'"') => return inner.replace("\"\"", "\""),
            (b'\'', b'\'') => return inner.replace("''", "'"),
            (b'`', b'`') => return inner.replace("``", "`"),
            (b'[', b']') => return inner.to_string(),
            _ => {}
        }
    }
    text.to_string()
}

/// What the `CREATE TABLE` text says beyond the pragmas.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TableDdl {
    /// `CREATE VIRTUAL TABLE`: the parenthesised text is module arguments, not columns.
    pub is_virtual: bool,
    pub columns: Vec<ColumnDdl>,
    /// Column-level and table-level CHECKs in text order.
    pub checks: Vec<CheckConstraint>,
    /// Column-level and table-level UNIQUE constraints in text order.
    pub uniques: Vec<UniqueConstraint>,
    /// Column-level and table-level foreign keys in text order.
    pub foreign_keys: Vec<ForeignKeyDdl>,
    /// An `AUTOINCREMENT` keyword appears.
    pub autoincrement: bool,
}

impl TableDdl {
    /// The column definition with this name (ASCII case-insensitive, as SQLite compares).
    pub fn column(&self, name: &str) -> Option<&ColumnDdl> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ColumnDdl {
    pub name: String,
    /// `COLLATE name`, the name unquoted.
    pub collation: Option<String>,
    /// `[GENERATED ALWAYS] AS (expr)`: the expression as written.
    pub generated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ForeignKeyDdl {
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    /// `DEFERRABLE` (and not `NOT DEFERRABLE`).
    pub deferrable: bool,
    /// `DEFERRABLE INITIALLY DEFERRED`: the only form SQLite actually defers.
    pub initially_deferred: bool,
}

/// What the `CREATE INDEX` text says beyond the pragmas.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct IndexDdl {
    /// Each key part's expression as written, without its `COLLATE` and `ASC`/`DESC`.
    pub parts: Vec<String>,
    /// The partial-index `WHERE` predicate as written.
    pub predicate: Option<String>,
}

/// A read position over the tokens of one statement.
struct Cursor<'a> {
    sql: &'a str,
    tokens: &'a [Token],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn new(sql: &'a str, tokens: &'a [Token], pos: usize, end: usize) -> Self {
        Cursor {
            sql,
            tokens,
            pos,
            end,
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.end
    }

    fn text(&self, token: Token) -> &'a str {
        &self.sql[token.start..token.end]
    }

    fn peek(&self) -> Option<Token> {
        (self.pos < self.end).then(|| self.tokens[self.pos])
    }

    fn is_kw_at(&self, at: usize, keyword: &str) -> bool {
        at < self.end && is_keyword(self.sql, self.tokens[at], keyword)
    }

    fn is_kw(&self, keyword: &str) -> bool {
        self.is_kw_at(self.pos, keyword)
    }

    fn eat_kw(&mut self, keyword: &str) -> bool {
        let found = self.is_kw(keyword);
        if found {
            self.pos += 1;
        }
        found
    }

    fn is_punct(&self, punct: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == TokenKind::Punct && self.text(t) == punct)
    }

    /// The next token's name, unquoted.
    fn name(&mut self) -> Option<String> {
        let token = self.peek()?;
        self.pos += 1;
        Some(dequote(self.text(token)))
    }

    /// At `(`: skips the balanced group and returns the index of its `(` and its `)`.
    fn group(&mut self) -> Result<Option<(usize, usize)>, DdlError> {
        if !self.is_punct("(") {
            return Ok(None);
        }
        let open = self.pos;
        let close = matching_paren(self.sql, self.tokens, open)?;
        if close >= self.end {
            return Err(DdlError {
                message: "unbalanced `(`".into(),
                offset: self.tokens[open].start,
            });
        }
        self.pos = close + 1;
        Ok(Some((open, close)))
    }

    /// The text between the parentheses of a group, trimmed.
    fn inner_text(&self, (open, close): (usize, usize)) -> String {
        self.sql[self.tokens[open].end..self.tokens[close].start]
            .trim()
            .to_string()
    }

    /// Skips one token, or one balanced group.
    fn skip(&mut self) -> Result<(), DdlError> {
        if self.group()?.is_none() {
            self.pos += 1;
        }
        Ok(())
    }

    /// `ON CONFLICT resolution`.
    fn eat_conflict_clause(&mut self) -> bool {
        if self.is_kw("ON") && self.is_kw_at(self.pos + 1, "CONFLICT") {
            self.pos = (self.pos + 3).min(self.end);
            return true;
        }
        false
    }

    /// The first token's name in each comma-separated part of a group.
    fn group_names(&self, group: (usize, usize)) -> Vec<String> {
        split_commas(self.sql, self.tokens, group.0 + 1, group.1)
            .into_iter()
            .filter(|(from, to)| from < to)
            .map(|(from, _)| dequote(self.text(self.tokens[from])))
            .collect()
    }
}

fn is_keyword(sql: &str, token: Token, keyword: &str) -> bool {
    token.kind == TokenKind::Word && sql[token.start..token.end].eq_ignore_ascii_case(keyword)
}

fn is_punct(sql: &str, token: Token, punct: &str) -> bool {
    token.kind == TokenKind::Punct && &sql[token.start..token.end] == punct
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_paren(sql: &str, tokens: &[Token], open: usize) -> Result<usize, DdlError> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if is_punct(sql, *token, "(") {
            depth += 1;
        } else if is_punct(sql, *token, ")") {
            depth -= 1;
            if depth == 0 {
                return Ok(i);
            }
        }
    }
    Err(DdlError {
        message: "unbalanced `(`".into(),
        offset: tokens[open].start,
    })
}

/// Token ranges `[from, to)` between top-level commas in `tokens[from..to]`.
fn split_commas(sql: &str, tokens: &[Token], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = from;
    for (i, token) in tokens.iter().enumerate().take(to).skip(from) {
        if is_punct(sql, *token, "(") {
            depth += 1;
        } else if is_punct(sql, *token, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && is_punct(sql, *token, ",") {
            parts.push((start, i));
            start = i + 1;
        }
    }
    parts.push((start, to));
    parts
}

/// Reads a stored `CREATE TABLE` statement.
pub(crate) fn parse_create_table(sql: &str) -> Result<TableDdl, DdlError> {
    let tokens = tokenize(sql)?;
    let mut ddl = TableDdl::default();
    let Some(open) = tokens.iter().position(|t| is_punct(sql, *t, "(")) else {
        return Err(DdlError {
            message: "no column list".into(),
            offset: sql.len(),
        });
    };
    if tokens[..open]
        .iter()
        .any(|t| is_keyword(sql, *t, "VIRTUAL"))
    {
        ddl.is_virtual = true;
        return Ok(ddl);
    }
    let close = matching_paren(sql, &tokens, open)?;
    ddl.autoincrement = tokens[open..close]
        .iter()
        .any(|t| is_keyword(sql, *t, "AUTOINCREMENT"));
    for (from, to) in split_commas(sql, &tokens, open + 1, close) {
        if from == to {
            continue;
        }
        let mut cursor = Cursor::new(sql, &tokens, from, to);
        let table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|kw| cursor.is_kw(kw));
        if table_constraint {
            table_constraints(&mut cursor, &mut ddl)?;
        } else {
            column_definition(&mut cursor, &mut ddl)?;
        }
    }
    Ok(ddl)
}

fn column_definition(cursor: &mut Cursor<'_>, ddl: &mut TableDdl) -> Result<(), DdlError> {
    let Some(name) = cursor.name() else {
        return Ok(());
    };
    let mut column = ColumnDdl {
        name: name.clone(),
        ..ColumnDdl::default()
    };
    let mut constraint_name: Option<String> = None;
    while !cursor.done() {
        if cursor.eat_kw("CONSTRAINT") {
            constraint_name = cursor.name();
        } else if cursor.eat_kw("CHECK") {
            if let Some(group) = cursor.group()? {
                let expression = cursor.inner_text(group);
                ddl.checks.push(CheckConstraint {
                    name: constraint_name.take(),
                    expression,
                });
            }
        } else if cursor.eat_kw("COLLATE") {
            column.collation = cursor.name();
            constraint_name = None;
        } else if cursor.is_kw("GENERATED") && cursor.is_kw_at(cursor.pos + 1, "ALWAYS") {
            cursor.pos += 2;
        } else if cursor.eat_kw("AS") {
            if let Some(group) = cursor.group()? {
                column.generated = Some(cursor.inner_text(group));
            }
            constraint_name = None;
        } else if cursor.eat_kw("UNIQUE") {
            ddl.uniques.push(UniqueConstraint {
                name: constraint_name.take(),
                columns: vec![name.clone()],
            });
        } else if cursor.eat_kw("REFERENCES") {
            let fk = references(cursor, vec![name.clone()])?;
            ddl.foreign_keys.push(fk);
            constraint_name = None;
        } else if cursor.eat_kw("DEFAULT") {
            if cursor.is_punct("+") || cursor.is_punct("-") {
                cursor.pos += 1;
            }
            cursor.skip()?;
            constraint_name = None;
        } else if cursor.eat_conflict_clause() {
            // `ON CONFLICT ...` belongs to the constraint before it; nothing to record.
        } else {
            if ["PRIMARY", "NOT", "NULL"].iter().any(|kw| cursor.is_kw(kw)) {
                constraint_name = None;
            }
            cursor.skip()?;
        }
    }
    ddl.columns.push(column);
    Ok(())
}

fn table_constraints(cursor: &mut Cursor<'_>, ddl: &mut TableDdl) -> Result<(), DdlError> {
    let mut constraint_name: Option<String> = None;
    while !cursor.done() {
        if cursor.eat_kw("CONSTRAINT") {
            constraint_name = cursor.name();
        } else if cursor.eat_kw("CHECK") {
            if let Some(group) = cursor.group()? {
                let expression = cursor.inner_text(group);
                ddl.checks.push(CheckConstraint {
                    name: constraint_name.take(),
                    expression,
                });
            }
        } else if cursor.eat_kw("UNIQUE") {
            if let Some(group) = cursor.group()? {
                let columns = cursor.group_names(group);
                ddl.uniques.push(UniqueConstraint {
                    name: constraint_name.take(),
                    columns,
                });
            }
        } else if cursor.eat_kw("FOREIGN") {
            cursor.eat_kw("KEY");
            let columns = match cursor.group()? {
                Some(group) => cursor.group_names(group),
                None => Vec::new(),
            };
            if cursor.eat_kw("REFERENCES") {
                let fk = references(cursor, columns)?;
                ddl.foreign_keys.push(fk);
            }
            constraint_name = None;
        } else if cursor.eat_conflict_clause() {
            // `ON CONFLICT ...` belongs to the constraint before it; nothing to record.
        } else {
            if cursor.is_kw("PRIMARY") {
                constraint_name = None;
            }
            cursor.skip()?;
        }
    }
    Ok(())
}

/// After `REFERENCES`: the parent table, its columns and the clauses that follow.
fn references(cursor: &mut Cursor<'_>, columns: Vec<String>) -> Result<ForeignKeyDdl, DdlError> {
    let mut fk = ForeignKeyDdl {
        columns,
        ..ForeignKeyDdl::default()
    };
    fk.referenced_table = cursor.name().unwrap_or_default();
    if let Some(group) = cursor.group()? {
        fk.referenced_columns = cursor.group_names(group);
    }
    loop {
        if cursor.is_kw("ON")
            && (cursor.is_kw_at(cursor.pos + 1, "DELETE")
                || cursor.is_kw_at(cursor.pos + 1, "UPDATE"))
        {
            // `SET NULL`, `SET DEFAULT`, `NO ACTION`, `CASCADE`, `RESTRICT`.
            cursor.pos += 2;
            let _two_words = cursor.eat_kw("SET") || cursor.eat_kw("NO");
            cursor.pos += 1;
        } else if cursor.eat_kw("MATCH") {
            cursor.pos += 1;
        } else if cursor.is_kw("NOT") && cursor.is_kw_at(cursor.pos + 1, "DEFERRABLE") {
            cursor.pos += 2;
            fk.deferrable = false;
            fk.initially_deferred = false;
            if cursor.eat_kw("INITIALLY") {
                cursor.pos += 1;
            }
        } else if cursor.eat_kw("DEFERRABLE") {
            fk.deferrable = true;
            if cursor.eat_kw("INITIALLY") {
                fk.initially_deferred = cursor.is_kw("DEFERRED");
                cursor.pos += 1;
            }
        } else {
            break;
        }
        cursor.pos = cursor.pos.min(cursor.end);
    }
    Ok(fk)
}

/// Reads a stored `CREATE INDEX` statement.
pub(crate) fn parse_create_index(sql: &str) -> Result<IndexDdl, DdlError> {
    let tokens = tokenize(sql)?;
    let Some(on) = tokens.iter().position(|t| is_keyword(sql, *t, "ON")) else {
        return Err(DdlError {
            message: "no `ON`".into(),
            offset: sql.len(),
        });
    };
    let Some(open) = tokens
        .iter()
        .skip(on)
        .position(|t| is_punct(sql, *t, "("))
        .map(|i| i + on)
    else {
        return Err(DdlError {
            message: "no key list".into(),
            offset: sql.len(),
        });
    };
    let close = matching_paren(sql, &tokens, open)?;
    let mut ddl = IndexDdl::default();
    for (from, mut to) in split_commas(sql, &tokens, open + 1, close) {
        if to > from
            && ["ASC", "DESC"]
                .iter()
                .any(|kw| is_keyword(sql, tokens[to - 1], kw))
        {
            to -= 1;
        }
        if to >= from + 2 && is_keyword(sql, tokens[to - 2], "COLLATE") {
            to -= 2;
        }
        let text = if to > from {
            &sql[tokens[from].start..tokens[to - 1].end]
        } else {
            ""
        };
        ddl.parts.push(text.to_string());
    }
    if let Some(predicate) = tokens
        .get(close + 1)
        .filter(|t| is_keyword(sql, **t, "WHERE"))
    {
        let text = sql[predicate.end..].trim();
        let text = text.strip_suffix(';').unwrap_or(text).trim_end();
        ddl.predicate = Some(text.to_string());
    }
    Ok(ddl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        tokenize(sql)
            .map(|ts| ts.iter().map(|t| &sql[t.start..t.end]).collect())
            .unwrap_or_default()
    }

    #[test]
    fn tokenizer_keeps_quoted_identifiers_strings_and_blobs_whole() {
        let sql = "a \"b \"\"c\" [d e] `f` 'g''h' x'00' 1.5e-3 -- comment\n /* c */ (,)";
        assert_eq!(
            texts(sql),
            [
                "a",
                "\"b \"\"c\"",
                "[d e]",
                "`f`",
                "'g''h'",
                "x'00'",
                "1.5e-3",
                "(",
                ",",
                ")"
            ]
        );
        assert_eq!(dequote("\"b \"\"c\""), "b \"c");
    }

    #[test]
    fn tokenizer_reports_an_unterminated_string() {
        assert!(tokenize("select 'abc").is_err());
    }

    #[test]
    fn create_table_parser_finds_checks_generated_collate_and_references() {
        let sql = r#"CREATE TABLE "t" (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            "my name" TEXT COLLATE "NOCASE" NOT NULL DEFAULT 'x, y' CHECK (length("my name") > 0),
            total REAL GENERATED ALWAYS AS (id * 2.0) STORED,
            p INT CONSTRAINT fk_p REFERENCES parent ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
            CONSTRAINT positive CHECK (total >= 0) CHECK (id <> 3),
            CONSTRAINT uq UNIQUE ("my name", p),
            FOREIGN KEY (p, id) REFERENCES other (a, b) NOT DEFERRABLE
        )"#;
        let ddl = parse_create_table(sql).expect("parses");
        assert!(ddl.autoincrement);
        assert_eq!(ddl.columns.len(), 4);
        assert_eq!(
            ddl.column("MY NAME")
                .and_then(|c| c.collation.clone())
                .as_deref(),
            Some("NOCASE")
        );
        assert_eq!(
            ddl.column("total")
                .and_then(|c| c.generated.clone())
                .as_deref(),
            Some("id * 2.0")
        );
        let checks: Vec<_> = ddl
            .checks
            .iter()
            .map(|c| (c.name.as_deref(), c.expression.as_str()))
            .collect();
        assert_eq!(
            checks,
            [
                (None, "length(\"my name\") > 0"),
                (Some("positive"), "total >= 0"),
                (None, "id <> 3")
            ]
        );
        assert_eq!(
            ddl.uniques,
            [UniqueConstraint {
                name: Some("uq".into()),
                columns: vec!["my name".into(), "p".into()]
            }]
        );
        assert_eq!(ddl.foreign_keys.len(), 2);
        assert!(ddl.foreign_keys[0].deferrable && ddl.foreign_keys[0].initially_deferred);
        assert_eq!(ddl.foreign_keys[1].referenced_columns, ["a", "b"]);
        assert!(!ddl.foreign_keys[1].deferrable);
    }

    #[test]
    fn create_index_parser_strips_collate_and_order_and_keeps_the_predicate() {
        let sql = "CREATE UNIQUE INDEX \"i\" ON t (lower(a) COLLATE nocase DESC, (b + c), d ASC) WHERE d IS NOT NULL";
        let ddl = parse_create_index(sql).expect("parses");
        assert_eq!(ddl.parts, ["lower(a)", "(b + c)", "d"]);
        assert_eq!(ddl.predicate.as_deref(), Some("d IS NOT NULL"));
    }
}
