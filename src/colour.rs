//! Colour for what must stand out on a terminal (a failed check, a failed step), and only
//! there: never when the output is a pipe or a file, nor when `NO_COLOR` is set (no-color.org).

use std::io::IsTerminal;

/// Whether to colour what goes to standard output.
pub fn for_stdout() -> bool {
    wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR"),
    )
}

/// Whether to colour what goes to standard error.
pub fn for_stderr() -> bool {
    wanted(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    )
}

/// A terminal, and no `NO_COLOR` with a value (an empty one does not count, as the
/// convention says).
fn wanted(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// `text` in bold red when `on`, as it is otherwise.
pub fn alarm(text: &str, on: bool) -> String {
    if on {
        format!("\x1b[1;31m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_and_never_under_no_color() {
        assert!(wanted(true, None));
        assert!(wanted(true, Some("".into())));
        assert!(!wanted(true, Some("1".into())));
        assert!(!wanted(false, None));
        assert_eq!(alarm("FAIL", false), "FAIL");
        assert_eq!(alarm("FAIL", true), "\x1b[1;31mFAIL\x1b[0m");
    }
}
