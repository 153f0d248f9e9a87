//! What a run shows while it runs: a progress bar per table load (rows, rows/s, ETA) on a
//! terminal, one plain line per finished step otherwise. An observer of the executor.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::StepReport;
use super::RunObserver;
use crate::colour;

/// One finished step on one line: id, seconds, and rows for a load.
pub fn step_line(step: &StepReport) -> String {
    let rows = step
        .rows
        .map(|r| {
            format!(
                "  {} read, {} written, {} rejected",
                r.read, r.written, r.rejected
            )
        })
        .unwrap_or_default();
    let state = if step.state == "done" {
        String::new()
    } else {
        format!("  [{}]", step.state)
    };
    format!("{:<40} {:>8.2}s{rows}{state}", step.id, step.seconds)
}

/// Progress on standard error: bars on a terminal, plain lines when piped or logged.
pub struct ConsoleProgress<'w> {
    lines: &'w mut dyn Write,
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    /// Every step as it ends; otherwise only loads (a line per table) and failures.
    verbose: bool,
    colour: bool,
}

impl<'w> ConsoleProgress<'w> {
    /// Bars when standard error is a terminal; `lines` gets the plain lines otherwise.
    pub fn new(lines: &'w mut dyn Write, verbose: bool) -> Self {
        let bars = std::io::stderr().is_terminal().then(|| {
            (
                MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                HashMap::new(),
            )
        });
        ConsoleProgress {
            lines,
            bars,
            verbose,
            colour: colour::for_stderr(),
        }
    }
}

impl RunObserver for ConsoleProgress<'_> {
    fn step_started(&mut self, id: &str, expected_rows: Option<u64>) {
        let Some((multi, bars)) = &mut self.bars else {
            return;
        };
        let Some(total) = expected_rows else { return };
        let bar = multi.add(ProgressBar::new(total));
        let style = ProgressStyle::with_template(
            "{prefix:30!} [{bar:30}] {human_pos}/{human_len} rows  {rate:>14}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} rows/s", state.per_sec());
            },
        )
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(id.to_owned());
        bars.insert(id.to_owned(), bar);
    }

    fn rows(&mut self, id: &str, rows: u64) {
        if let Some((_, bars)) = &self.bars {
            if let Some(bar) = bars.get(id) {
                bar.set_position(rows);
            }
        }
    }

    fn step_finished(&mut self, step: &StepReport) {
        // The checks step's state is its tally; the summary after the run says it again.
        let failed = step.state == "failed" || step.state.starts_with("interrupted");
        // A quiet run shows a line per table (its load) and every step that did not finish.
        let shown = self.verbose || step.rows.is_some() || failed;
        let line = if failed {
            colour::alarm(&step_line(step), self.colour)
        } else {
            step_line(step)
        };
        match &mut self.bars {
            Some((multi, bars)) => {
                if shown {
                    let _ = multi.println(line);
                }
                if let Some(bar) = bars.remove(&step.id) {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
            }
            None if shown => {
                let _ = writeln!(self.lines, "{line}");
            }
            None => {}
        }
    }
}
