//! Under `settings.orphans: fail`, the orphan search beside the loads: the loads settle the keys
//! they can ([`OrphanWatch`]), the source is searched for the rest, before any foreign key.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::orphan_watch::OrphanWatch;
use super::scheduler::Stop;
use super::snapshot::another_source;
use super::step::StepError;
use crate::engines::{open_source, IntrospectError};
use crate::orphans::{all_source_foreign_keys, find_orphans_of, OrphanFinding};
use crate::orphans::{OrphanError, SourceForeignKey};
use crate::run::report::RunReport;
use crate::signals;
use crate::url::SourceUrl;

/// What an orphan search beside the loads hands back: the orphans, or why it failed.
type OrphanSearch = Receiver<Result<Vec<OrphanFinding>, OrphanSearchError>>;

/// Why an orphan search beside the loads failed.
#[derive(Debug, thiserror::Error)]
pub enum OrphanSearchError {
    #[error("cannot open the source")]
    Open(#[source] IntrospectError),
    #[error(transparent)]
    Search(OrphanError),
    #[error("the search stopped without a result")]
    Stopped,
}

/// Starts an orphan search for the constraints `which` on connections of its own. The thread
/// is not scoped: a run stopped by a signal or a failed step does not wait for it.
fn search_orphans_beside(
    resolved: &crate::resolve::ResolvedPlan,
    url: &SourceUrl,
    which: Vec<SourceForeignKey>,
) -> OrphanSearch {
    let (tx, rx) = std::sync::mpsc::channel();
    let resolved = resolved.clone();
    let url = url.clone();
    // Tests hold one search back at its result by the constraints it searches.
    let names: Vec<&str> = which.iter().map(|fk| fk.name.as_str()).collect();
    let point = names.join(",");
    std::thread::spawn(move || {
        let result = open_source(&url)
            .map_err(OrphanSearchError::Open)
            .and_then(|mut source| {
                find_orphans_of(
                    &mut source,
                    &resolved,
                    &which,
                    Some(&|| another_source(&url)),
                )
                .map_err(OrphanSearchError::Search)
            });
        signals::test_point("searched", &point);
        let _ = tx.send(result);
    });
    rx
}

/// Under `settings.orphans: fail`, how the orphans are found beside the loads: the loads watch
/// the keys they can settle, and the source is searched for the rest, all before any foreign
/// key is made.
pub(super) struct BesideSearch {
    pub(super) watch: OrphanWatch,
    /// Searches still running.
    pub(super) searches: Vec<OrphanSearch>,
    /// Constraints the loads could not settle, searched once the watch is over: one search
    /// shares two connections out among them all.
    pub(super) unsure: Vec<SourceForeignKey>,
    /// The orphans the searches found so far.
    pub(super) found: Vec<OrphanFinding>,
    pub(super) url: SourceUrl,
}

impl BesideSearch {
    /// True until every constraint is settled or searched: foreign keys and checks wait.
    pub(super) fn busy(&self) -> bool {
        self.watch.waiting() || !self.searches.is_empty()
    }

    /// Starts the search of `which` (none when empty) and names them in the report.
    pub(super) fn search(
        &mut self,
        resolved: &crate::resolve::ResolvedPlan,
        which: Vec<SourceForeignKey>,
        report: &mut RunReport,
    ) {
        if which.is_empty() {
            return;
        }
        report
            .orphans_searched_in_source
            .extend(which.iter().map(|fk| fk.name.clone()));
        self.searches
            .push(search_orphans_beside(resolved, &self.url, which));
    }

    /// Once nothing is watched any more, the constraints the loads left unsure are searched.
    pub(super) fn search_the_unsure(
        &mut self,
        resolved: &crate::resolve::ResolvedPlan,
        report: &mut RunReport,
    ) {
        if !self.watch.waiting() {
            let unsure = std::mem::take(&mut self.unsure);
            self.search(resolved, unsure, report);
        }
    }

    /// Takes the results of the searches that have ended, waiting up to `wait` for the first:
    /// orphans (once every constraint is settled or searched, so the stop names them all), or
    /// a failed search, stop the run before any foreign key is made.
    pub(super) fn result(
        &mut self,
        resolved: &crate::resolve::ResolvedPlan,
        wait: Duration,
        report: &mut RunReport,
    ) -> Option<Stop> {
        let mut i = 0;
        while i < self.searches.len() {
            let result =
                match self.searches[i].recv_timeout(if i == 0 { wait } else { Duration::ZERO }) {
                    Ok(result) => result,
                    Err(RecvTimeoutError::Timeout) => {
                        i += 1;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => Err(OrphanSearchError::Stopped),
                };
            self.searches.remove(i);
            match result {
                Ok(findings) => self.found.extend(findings),
                Err(e) => {
                    return Some(Stop::Failed {
                        step: "orphan search".to_owned(),
                        sql: None,
                        cause: Box::new(StepError::OrphanSearch(e)),
                    })
                }
            }
        }
        if !self.found.is_empty() && self.watch.waiting() {
            // The run stops: what the loads still watch is searched now, so that the stop
            // lists every constraint with orphans.
            self.unsure.extend(self.watch.give_up());
        }
        self.search_the_unsure(resolved, report);
        if self.found.is_empty() || self.busy() {
            return None;
        }
        // In the plan's order, whichever search found them.
        let order = all_source_foreign_keys(resolved);
        let rank = |f: &OrphanFinding| {
            order
                .iter()
                .position(|fk| fk.table == f.table && fk.name == f.constraint)
        };
        self.found.sort_by_key(rank);
        Some(Stop::Orphans)
    }
}
