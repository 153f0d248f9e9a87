//! What `decant status` lists of the newest run: its steps as a table, its syncs one a line.

use std::io::{self, Write};

use crate::journal::{StepRow, SyncRow};

/// The steps of a run: id, state, seconds, rows read, written and rejected; a failed step's
/// error (its first line) under it.
pub fn write_steps(out: &mut dyn Write, steps: &[StepRow]) -> io::Result<()> {
    writeln!(
        out,
        "  {:<40} {:<8} {:>9} {:>10} {:>10} {:>9}",
        "step", "state", "seconds", "read", "written", "rejected"
    )?;
    for s in steps {
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        writeln!(
            out,
            "  {:<40} {:<8} {:>9} {:>10} {:>10} {:>9}",
            s.step_id,
            s.state,
            s.seconds.map(|v| format!("{v:.2}")).unwrap_or_default(),
            n(s.rows_read),
            n(s.rows_written),
            n(s.rows_rejected)
        )?;
        if let Some(error) = &s.error {
            writeln!(
                out,
                "    error: {}",
                error.lines().next().unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

/// One sync of a run on one line: when, what it changed, and its error's first line.
pub fn write_sync(out: &mut dyn Write, sync: &SyncRow) -> io::Result<()> {
    writeln!(
        out,
        "  sync {}  {}  finished {}  {} inserted, {} updated, {} deleted, {} rejected in {:.2}s{}",
        sync.id,
        sync.status,
        sync.finished_at,
        sync.inserted,
        sync.updated,
        sync.deleted,
        sync.rejected,
        sync.seconds,
        sync.error
            .as_ref()
            .map(|e| format!(": {}", e.lines().next().unwrap_or_default()))
            .unwrap_or_default()
    )?;
    Ok(())
}
