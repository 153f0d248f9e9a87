//! SIGINT, SIGTERM and SIGHUP for the whole process: which one arrived, and who acts on it.
//! A command either polls [`received`] and winds down itself (`run`), or sets a [`Hook`] that
//! ends the process (`check`, `rehearse`). A second signal within a second of the first is the
//! same request (a supervisor such as `timeout -s INT` signals the process and its group); a
//! later one ends the process at once.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// What a command does when a signal arrives; runs on the signal thread, may end the process.
pub type Hook = Box<dyn Fn(i32) + Send>;

/// The first signal received, 0 until one arrives.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static HOOK: Mutex<Option<Hook>> = Mutex::new(None);
/// When the first signal arrived.
static FIRST_AT: OnceLock<std::time::Instant> = OnceLock::new();

/// How long after the first signal another one is the same request, not a second one.
pub const SAME_REQUEST: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts listening for SIGINT, SIGTERM and SIGHUP, once per process. Until a command calls
/// this, the default actions apply (the process ends at once, as with kill -9).
pub fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
                .map_err(|e| format!("cannot handle signals: {e}"))?;
            std::thread::Builder::new()
                .name("signals".into())
                .spawn(move || {
                    for signal in signals.forever() {
                        on_signal(signal);
                    }
                })
                .map(|_| ())
                .map_err(|e| format!("cannot start the signal thread: {e}"))
        })
        .clone()
}

fn on_signal(signal: i32) {
    let first = RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if first {
        let _ = FIRST_AT.set(std::time::Instant::now());
    } else if FIRST_AT.get().is_some_and(|at| at.elapsed() < SAME_REQUEST) {
        // The same request delivered twice: `timeout -s INT` signals decant and then its
        // process group, a supervisor may repeat itself. The first is being acted on.
        return;
    }
    if !first {
        // The user asked twice: whatever was winding down, stop now. Everything a step commits
        // carries its journal record, so ending here loses nothing that a resume cannot redo.
        say(&format!(
            "\n{}: second signal, stopping at once\n",
            name(signal)
        ));
        std::process::exit(exit_code(signal).into());
    }
    let hook = HOOK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(hook) = hook.as_ref() {
        hook(signal);
    }
}

/// Replaces the hook; `None` leaves the signal to whoever polls [`received`].
pub fn set_hook(hook: Option<Hook>) {
    *HOOK.lock().unwrap_or_else(|p| p.into_inner()) = hook;
}

/// The signal that arrived, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

/// The signal's usual name.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// Writes to the process's standard error without `std::io::stderr()`, whose lock the main
/// thread may hold for as long as the command runs.
pub fn say(text: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open("/dev/stderr") {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Test-only fault injection, so tests can place a kill or a pause deterministically. When
/// `DECANT_TEST_KILL_AT` is `<point>:<step id>` (for example `after-commit:load:orders`), the
/// process sends itself SIGKILL there: no cleanup, no unwinding, exactly like `kill -9`. When
/// `DECANT_TEST_PAUSE_AT` names the point, the process waits there for the test to act on a
/// run in progress, until a signal arrives or the file `DECANT_TEST_RELEASE` names exists.
/// When `DECANT_TEST_PANIC_AT` names it, the thread there panics, as a bug would.
pub fn test_point(point: &str, step: &str) {
    static TARGETS: OnceLock<(Option<String>, Option<String>, Option<String>)> = OnceLock::new();
    let (kill, pause, panic) = TARGETS.get_or_init(|| {
        (
            std::env::var("DECANT_TEST_KILL_AT").ok(),
            std::env::var("DECANT_TEST_PAUSE_AT").ok(),
            std::env::var("DECANT_TEST_PANIC_AT").ok(),
        )
    });
    let here = |target: &Option<String>| {
        target
            .as_deref()
            .and_then(|t| t.strip_prefix(point))
            .and_then(|r| r.strip_prefix(':'))
            == Some(step)
    };
    if here(kill) {
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGKILL);
        // SIGKILL cannot be caught: this sleep is never reached.
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
    if here(panic) {
        panic!("test panic at {point}:{step}");
    }
    if here(pause) {
        // Until a signal arrives (the code after the point then sees it) or the test creates
        // the file `DECANT_TEST_RELEASE` names; ten minutes at most.
        say(&format!("decant: paused at {point}:{step}\n"));
        let release = std::env::var_os("DECANT_TEST_RELEASE");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while std::time::Instant::now() < deadline
            && received().is_none()
            && !release
                .as_ref()
                .is_some_and(|f| std::path::Path::new(f).exists())
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
