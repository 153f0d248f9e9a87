//! What `decant sync` prints: the changes it applied, in all and per table.

use std::io::{self, Write};

use crate::sync::reverse::ReverseReport;
use crate::sync::{SyncReport, TableSync};

/// What a sync applied (or, dry, would apply), in all and per table: inserts, updates,
/// deletes and rejects, and how much of each table it compared.
pub fn write_summary(report: &SyncReport, out: &mut dyn Write) -> io::Result<()> {
    let c = report.counts();
    let verb = if report.dry_run {
        "would apply"
    } else {
        "applied"
    };
    writeln!(
        out,
        "sync after run {} {verb}: {} inserted, {} updated, {} deleted, {} rejected in {:.2}s",
        report.run_id, c.inserted, c.updated, c.deleted, c.rejected, report.seconds
    )?;
    writeln!(
        out,
        "  {:<28} {:>10} {:>10} {:>10} {:>9}  compared",
        "table", "insert", "update", "delete", "rejected"
    )?;
    for t in &report.tables {
        writeln!(
            out,
            "  {:<28} {:>10} {:>10} {:>10} {:>9}  {}{}",
            t.source,
            t.inserted,
            t.updated,
            t.deleted,
            t.rejected,
            match t.compared_ranges {
                None => "whole table".to_owned(),
                Some(1) => "1 key range".to_owned(),
                Some(n) => format!("{n} key ranges"),
            },
            t.note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// What a reverse sync applied (or, dry, would apply): the settling of a killed one, the
/// counts in all and per table, each row left out with its reason, the journal's record.
pub fn write_reverse_summary(report: &ReverseReport, out: &mut dyn Write) -> io::Result<()> {
    let c = report.counts();
    if let Some((id, state)) = report.settled {
        writeln!(
            out,
            "reverse sync {id}, killed before it ended, settled by the file's rows: {}",
            serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        )?;
    }
    let verb = if report.dry_run {
        "would apply"
    } else {
        "applied"
    };
    writeln!(
        out,
        "reverse sync from run {}'s target {verb}: {} inserted, {} updated, {} deleted, {} rejected in {:.2}s",
        report.run_id, c.inserted, c.updated, c.deleted, c.rejected, report.seconds
    )?;
    if c.inserted + c.updated + c.deleted + c.rejected == 0 {
        writeln!(
            out,
            "  nothing changed: the source already holds every row of the target"
        )?;
    }
    writeln!(
        out,
        "  {:<28} {:>10} {:>10} {:>10} {:>9}",
        "table", "insert", "update", "delete", "rejected"
    )?;
    for t in &report.tables {
        write_reverse_table(t, out)?;
    }
    for r in &report.rejects {
        writeln!(
            out,
            "  rejected: `{}` {}{}{}: {}",
            r.table,
            r.key,
            r.column
                .as_deref()
                .map(|c| format!(" column `{c}`"))
                .unwrap_or_default(),
            r.value
                .as_deref()
                .map(|v| format!(" value {v}"))
                .unwrap_or_default(),
            r.reason
        )?;
    }
    if let Some(id) = report.sync_id {
        writeln!(out, "  journal: {} (sync {id})", report.journal)?;
    }
    Ok(())
}

fn write_reverse_table(t: &TableSync, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  {:<28} {:>10} {:>10} {:>10} {:>9}",
        t.source, t.inserted, t.updated, t.deleted, t.rejected
    )
}

#[cfg(test)]
mod tests {
    use crate::sync::{SyncPhases, SyncReport, TableSync};

    fn table(source: &str, changed: u64, compared_ranges: Option<usize>) -> TableSync {
        TableSync {
            source: source.to_owned(),
            target: source.to_owned(),
            inserted: changed,
            updated: 2 * changed,
            deleted: 0,
            rejected: 0,
            reloaded: false,
            note: None,
            compared_ranges,
        }
    }

    /// The summary's bytes, as `decant sync` printed them before `report/` owned them.
    #[test]
    fn the_sync_summary_lines_up_its_table() {
        let mut reloaded = table("orders", 3, Some(4));
        reloaded.note = Some("reloaded: no key".to_owned());
        let report = SyncReport {
            run_id: 7,
            dry_run: true,
            seconds: 1.5,
            phases: SyncPhases::default(),
            tables: vec![
                table("customers", 1, None),
                table("items", 0, Some(1)),
                reloaded,
            ],
            rejects: Vec::new(),
        };
        let mut out = Vec::new();
        super::write_summary(&report, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "sync after run 7 would apply: 4 inserted, 8 updated, 0 deleted, 0 rejected in 1.50s\n\
             \x20 table                            insert     update     delete  rejected  compared\n\
             \x20 customers                             1          2          0         0  whole table\n\
             \x20 items                                 0          0          0         0  1 key range\n\
             \x20 orders                                3          6          0         0  4 key ranges  (reloaded: no key)\n"
        );
    }
}
