//! A plan step that runs a command (the app's migrator, a `psql -f` of a schema file): through
//! `sh -c` in the plan's folder, with the target in its environment, its output kept.

use std::path::Path;
use std::process::Command;

/// What the command printed, stdout then stderr, cut to the last 64 KiB.
pub struct CommandOutput {
    pub text: String,
}

/// Runs `command`; a non-zero exit is an error carrying its output.
pub fn run_command(
    command: &str,
    plan_dir: &Path,
    target_url: &str,
) -> Result<CommandOutput, String> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command).current_dir(plan_dir);
    cmd.env("DATABASE_URL", target_url)
        .env("TARGET_DATABASE_URL", target_url);
    for (key, value) in libpq_environment(target_url) {
        cmd.env(key, value);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot start `sh -c {command}`: {e}"))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let text = last_part(&text, 64 * 1024);
    if output.status.success() {
        Ok(CommandOutput { text })
    } else {
        let code = output
            .status
            .code()
            .map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"));
        Err(format!(
            "`{command}` ended with {code}{}",
            if text.trim().is_empty() {
                String::new()
            } else {
                format!(":\n{}", text.trim_end())
            }
        ))
    }
}

fn last_part(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE` (and `PGSSLMODE`) from a
/// `postgres://` URL (its query parameters included: `?host=/run/postgresql`) or a libpq
/// `key=value` string, so `psql -f schema.sql` and libpq-based tools reach the target without
/// arguments.
pub fn libpq_environment(url: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = Vec::new();
    let mut set = |key: &str, value: String| {
        let name = match key {
            "host" => "PGHOST",
            "port" => "PGPORT",
            "user" => "PGUSER",
            "password" => "PGPASSWORD",
            "dbname" => "PGDATABASE",
            "sslmode" => "PGSSLMODE",
            _ => return,
        };
        if value.is_empty() {
            return;
        }
        env.retain(|(n, _)| *n != name);
        env.push((name, value));
    };
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        // libpq's `key=value` form (values may be quoted with '…').
        for pair in url.split_whitespace() {
            if let Some((key, value)) = pair.split_once('=') {
                set(key, value.trim_matches('\'').to_owned());
            }
        }
        return env;
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        set("user", percent_decode(user));
        if let Some(password) = password {
            set("password", percent_decode(password));
        }
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (v6, None),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    set("host", percent_decode(host));
    if let Some(port) = port {
        set("port", port.to_owned());
    }
    set("dbname", percent_decode(database));
    // Query parameters win, as in libpq.
    for pair in query.split('&') {
        if let Some((key, value)) = pair.split_once('=') {
            set(key, percent_decode(value));
        }
    }
    env
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_libpq_variables_with_its_parts_decoded() {
        let env = libpq_environment("postgres://app:p%40ss@db.example:6432/shop?sslmode=require");
        assert_eq!(
            env,
            vec![
                ("PGUSER", "app".to_owned()),
                ("PGPASSWORD", "p@ss".to_owned()),
                ("PGHOST", "db.example".to_owned()),
                ("PGPORT", "6432".to_owned()),
                ("PGDATABASE", "shop".to_owned()),
                ("PGSSLMODE", "require".to_owned()),
            ]
        );
        assert_eq!(
            libpq_environment("postgresql://[::1]:5432/x"),
            vec![
                ("PGHOST", "::1".to_owned()),
                ("PGPORT", "5432".to_owned()),
                ("PGDATABASE", "x".to_owned()),
            ]
        );
        // A unix socket in the query, as libpq takes it; query parameters win.
        assert_eq!(
            libpq_environment(
                "postgres://app@/shop?host=%2Frun%2Fpostgresql&port=5433&sslmode=disable"
            ),
            vec![
                ("PGUSER", "app".to_owned()),
                ("PGDATABASE", "shop".to_owned()),
                ("PGHOST", "/run/postgresql".to_owned()),
                ("PGPORT", "5433".to_owned()),
                ("PGSSLMODE", "disable".to_owned()),
            ]
        );
        assert_eq!(
            libpq_environment("host=db port=6432 user=app password='s3cret' dbname=shop"),
            vec![
                ("PGHOST", "db".to_owned()),
                ("PGPORT", "6432".to_owned()),
                ("PGUSER", "app".to_owned()),
                ("PGPASSWORD", "s3cret".to_owned()),
                ("PGDATABASE", "shop".to_owned()),
            ]
        );
    }
}
