//! What `decant cutover` prints: the window on one line, and the Markdown report (the pause
//! first, then what happened inside it).

use crate::checks::CheckStatus;
use crate::run::cutover::{CutoverReport, FinalSyncScope};
use crate::run::cutover_reverse::ReverseCutoverReport;

/// What the window did, on one line: the final sync's changes, sequences, checks, steps.
pub fn summary(report: &CutoverReport) -> String {
    let applied = report.sync.as_ref().map(|s| s.counts()).unwrap_or_default();
    format!(
        "final sync {} inserted, {} updated, {} deleted; {} sequence(s); {} check(s) passed; {} step(s)",
        applied.inserted,
        applied.updated,
        applied.deleted,
        report.sequences.len(),
        report.checks.len(),
        report.steps.len()
    )
}

/// The report for people: the window first, then what happened inside it.
pub fn markdown(report: &CutoverReport) -> String {
    let mut md = format!("# Cutover of `{}` (run {})\n\n", report.plan, report.run_id);
    md.push_str(&format!(
        "- outcome: {}\n- write pause: **{:.3} s** ({})\n- the target had caught up {:.0} s before\n- whole cutover: {:.3} s\n\n",
        if report.failure.is_some() { "**failed**" } else { "done" },
        report.window.pause_seconds.unwrap_or(0.0),
        if !report.window.app_stopped() {
            "decant held the source's write lock"
        } else {
            "the operator stopped the app"
        },
        report.catch_up_age_seconds,
        report.seconds
    ));
    if let Some(failure) = &report.failure {
        md.push_str(&format!("## Failure\n\n{failure}\n\n"));
    }
    if let Some(c) = &report.catch_up {
        let n = c.counts();
        md.push_str(&format!(
            "Before the pause, a catch-up sync applied {} inserted, {} updated, {} deleted in {:.3} s while the app still wrote.\n\n",
            n.inserted, n.updated, n.deleted, c.seconds
        ));
    }
    if !report.window.stages.is_empty() {
        md.push_str("## Inside the pause\n\n| stage | seconds |\n|---|---|\n");
        for (stage, seconds) in &report.window.stages {
            md.push_str(&format!("| {stage} | {seconds:.3} |\n"));
        }
        if let Some(p) = report.sync.as_ref().map(|s| &s.phases) {
            md.push_str(&format!(
                "\nThe final sync: {:.3} s opening, {:.3} s digesting the source, {:.3} s comparing the windows that changed, {:.3} s applying.\n",
                p.open, p.digest, p.compare, p.apply
            ));
        }
        md.push('\n');
    }
    if let Some(scope) = &report.final_sync_scope {
        md.push_str(&scope_markdown(scope));
    }
    if let Some(sync) = &report.sync {
        md.push_str("## Final sync\n\n| table | inserted | updated | deleted | rejected | compared |\n|---|---|---|---|---|---|\n");
        for t in &sync.tables {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                t.source,
                t.inserted,
                t.updated,
                t.deleted,
                t.rejected,
                t.compared_ranges
                    .map_or("whole table".to_owned(), |n| format!("{n} key range(s)"))
            ));
        }
        md.push('\n');
    }
    if !report.sequences.is_empty() {
        md.push_str("## Sequences\n\n");
        for s in &report.sequences {
            md.push_str(&format!("- `{s}`\n"));
        }
        md.push('\n');
    }
    md.push_str("## Checks\n\n");
    for c in &report.checks {
        md.push_str(&format!(
            "- {} `{}`: {}\n",
            match c.status {
                CheckStatus::Pass => "PASS",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Error => "ERROR",
            },
            c.id,
            c.summary
        ));
    }
    for s in &report.checks_skipped {
        md.push_str(&format!("- not in the pause: {s}\n"));
    }
    if let Some(scope) = &report.checks_scope {
        md.push_str(&format!("- {scope}\n"));
    }
    if let Some(unchanged) = report.verified_unchanged {
        md.push_str(&format!(
            "- the source {} during the window (`--app-stopped`)\n",
            if unchanged {
                "did not change"
            } else {
                "CHANGED"
            }
        ));
    }
    if !report.steps.is_empty() {
        md.push_str("\n## Cutover steps\n\n");
        for s in &report.steps {
            md.push_str(&format!(
                "### `{}`\n\n```\n{}\n```\n\n",
                s.id,
                s.output.trim_end()
            ));
        }
    }
    md
}

/// What the final sync read, for the Markdown report.
fn scope_markdown(scope: &FinalSyncScope) -> String {
    let mut md = String::from("## What the final sync read\n\n");
    match &scope.fallback {
        Some(why) => md.push_str(&format!(
            "Every row of every table (digested as without a mark): {why}.\n"
        )),
        None => {
            md.push_str(&format!(
                "Incremental: {} page(s) written since the mark taken before the catch-up (the app's writes held {:.3} s for it); {} table(s) changed, {} not read at all (no page of theirs written); {} key range(s) compared.\n",
                scope.pages_changed,
                scope.mark_held_seconds,
                scope.tables_changed.len(),
                scope.tables_skipped,
                scope.ranges_compared
            ));
            for (table, why) in &scope.tables_read_whole {
                md.push_str(&format!("- `{table}` read whole: {why}\n"));
            }
        }
    }
    md.push('\n');
    md
}

/// The reverse cutover's report for people: the window first, then what happened inside it.
pub fn reverse_markdown(report: &ReverseCutoverReport) -> String {
    let mut md = format!(
        "# Cutover back from PostgreSQL: `{}` (run {})\n\n",
        report.plan, report.run_id
    );
    md.push_str(&format!(
        "- outcome: {}\n- write pause: **{:.3} s** ({})\n- the old database had caught up {:.0} s before\n- every row compared through the inverse: {}\n- whole cutover: {:.3} s\n\n",
        if report.failure.is_some() { "**failed**" } else { "done" },
        report.window.pause_seconds.unwrap_or(0.0),
        if !report.window.app_stopped() {
            "decant held the app's PostgreSQL tables"
        } else {
            "the operator stopped the app"
        },
        report.catch_up_age_seconds,
        match report.verified_equal {
            Some(true) => "equal",
            Some(false) => "**DIFFERENT**",
            None => "not reached",
        },
        report.seconds
    ));
    if let Some(failure) = &report.failure {
        md.push_str(&format!("## Failure\n\n{failure}\n\n"));
    }
    if !report.window.stages.is_empty() {
        md.push_str("## Inside the pause\n\n| stage | seconds |\n|---|---|\n");
        for (stage, seconds) in &report.window.stages {
            md.push_str(&format!("| {stage} | {seconds:.3} |\n"));
        }
        md.push('\n');
    }
    if let Some(sync) = &report.sync {
        md.push_str("## Final reverse sync\n\n| table | inserted | updated | deleted | rejected |\n|---|---|---|---|---|\n");
        for t in &sync.tables {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                t.source, t.inserted, t.updated, t.deleted, t.rejected
            ));
        }
        md.push('\n');
    }
    for s in &report.steps {
        md.push_str(&format!(
            "### Step `{}`\n\n```\n{}\n```\n\n",
            s.id,
            s.output.trim_end()
        ));
    }
    md
}
