//! Reading the source: its rows read on one thread, converted on another by the load's own
//! converter into the binary tuples the load sent, and handed to the producer.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::engines::{PageKey, SourceConnection, VisitError};

use super::batches::{Batch, Msg, PassConfig, Producer, Stop, Summary, Unconverted};
use super::canonical::scan_tuple;
use super::job::Job;
use super::passes::spawn_named;
use super::{CompareError, Side};
use crate::copy::{show_value, Converter, SourceRow, SqlValue};

/// Source rows handed from the SQLite reading thread to the converting one.
const READ_CHUNK: usize = 1024;

/// A chunk of source rows, each its selected values.
type RowChunk = Vec<Vec<SqlValue>>;

/// Reads the source with `sql` on one thread and converts each row as the load did, hashes and
/// sends it on this one: SQLite's work and the conversion overlap.
pub(super) fn read_source(
    conn: &mut SourceConnection,
    sqls: &[String],
    job: &Job<'_>,
    config: &PassConfig,
    channels: (SyncSender<Msg>, Receiver<Batch>),
) -> Result<(), Stop> {
    let converter = Converter::new(job.table).map_err(|u| {
        Stop::Error(CompareError::Value {
            check: job.check.to_owned(),
            message: format!("column `{}` has type `{}`", u.column, u.type_sql),
        })
    })?;
    std::thread::scope(|scope| {
        let (rtx, rrx) = sync_channel::<RowChunk>(4);
        // Chunks come back to be emptied where their rows were allocated.
        let (back_tx, back_rx) = std::sync::mpsc::channel::<RowChunk>();
        let reader = spawn_named(scope, "checksum-source", move || -> Result<u64, Stop> {
            let mut read: u64 = 0;
            let mut chunk = Vec::with_capacity(READ_CHUNK);
            // MySQL reads a table keyed by integers in key-ordered pages (its client would
            // otherwise hold the whole result); a row limit is already the query's own LIMIT.
            let page_keys: Vec<PageKey> = match (job.layout.integer_keys(), job.options.row_limit) {
                (Some(keys), None) => keys
                    .into_iter()
                    .map(|(c, position)| PageKey {
                        name: c.source.clone(),
                        position,
                        numeric: true,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for sql in sqls {
                let query_error =
                    |e| Stop::Error(CompareError::query(job.check, Side::Source, sql, e));
                let visited = conn.visit_in_key_order(sql, &page_keys, |values| {
                    read += 1;
                    chunk.push(values);
                    if chunk.len() == READ_CHUNK {
                        let empty = match back_rx.try_recv() {
                            Ok(mut old) => {
                                old.drain(..).for_each(SourceRow::recycle);
                                old
                            }
                            Err(_) => Vec::with_capacity(READ_CHUNK),
                        };
                        let full = std::mem::replace(&mut chunk, empty);
                        // The converting side stopped: what was read no longer matters.
                        rtx.send(full).map_err(|_| ())?;
                    }
                    Ok(())
                });
                match visited {
                    Ok(()) => {}
                    Err(VisitError::Stopped(())) => return Ok(read),
                    Err(VisitError::Read(e)) => return Err(query_error(e)),
                }
            }
            if !chunk.is_empty() {
                let _ = rtx.send(chunk);
            }
            Ok(read)
        });
        let mut producer = Producer::new(job.layout, config, Side::Source, channels);
        let converted = convert_rows(
            (rrx, back_tx),
            &converter,
            job,
            config,
            sqls.first().map_or("", String::as_str),
            &mut producer,
        );
        let read = reader.join().map_err(|_| {
            Stop::Error(CompareError::Value {
                check: job.check.to_owned(),
                message: "the source reading thread panicked".to_owned(),
            })
        })??;
        converted?;
        let limited = job.options.row_limit.is_some_and(|n| read >= n);
        producer.finish(Summary { limited });
        Ok(())
    })
}

/// Converts the rows the reading thread sends, as the load did, into the producer.
fn convert_rows(
    rows: (Receiver<RowChunk>, std::sync::mpsc::Sender<RowChunk>),
    converter: &Converter,
    job: &Job<'_>,
    config: &PassConfig,
    sql: &str,
    producer: &mut Producer<'_>,
) -> Result<(), Stop> {
    let columns = job.layout.columns.len();
    let rejects = job.rejects;
    let (rows, back) = rows;
    for chunk in rows {
        for values in &chunk {
            if producer.hung_up {
                return Ok(());
            }
            if values.len() < columns {
                return Err(Stop::Error(CompareError::Value {
                    check: job.check.to_owned(),
                    message: format!(
                        "the source query returns {} columns where {columns} are compared: `{sql}`",
                        values.len()
                    ),
                }));
            }
            if !rejects.keys.is_empty() && rejects.keys.contains(&rejects.key_of(values)) {
                if config.report_unconverted {
                    rejects
                        .excluded
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                continue;
            }
            let start = producer.batch.data.len();
            match converter.encode_row(values, &mut producer.batch.data) {
                Ok(()) => {
                    let tuple = &producer.batch.data[start..];
                    scan_tuple(tuple, columns, &mut producer.canon.spans).map_err(|m| {
                        Stop::Error(CompareError::Value {
                            check: job.check.to_owned(),
                            message: m,
                        })
                    })?;
                    match config.sums {
                        Some(grouping) => {
                            let mut tuple = std::mem::take(&mut producer.batch.data);
                            producer.sum(grouping, &tuple[start..]);
                            tuple.truncate(start);
                            producer.batch.data = tuple;
                        }
                        None => producer.push(start)?,
                    }
                }
                Err((column, reason)) => {
                    producer.batch.data.truncate(start);
                    if config.report_unconverted {
                        producer.batch.unconverted.push(Unconverted {
                            key: rejects.key_json(values),
                            column: converter.columns[column].source.clone(),
                            value: show_value(&values[column]),
                            reason,
                        });
                    }
                }
            }
        }
        let _ = back.send(chunk);
    }
    Ok(())
}
