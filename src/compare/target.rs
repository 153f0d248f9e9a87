//! Reading the target: `COPY (SELECT …) TO STDOUT (FORMAT binary)` parsed tuple by tuple into
//! the producer, and always read to its end.

use std::io::BufRead;
use std::sync::mpsc::{Receiver, SyncSender};

use diesel::connection::SimpleConnection;

use super::batches::{Batch, Msg, PassConfig, Producer, Stop, Summary};
use super::canonical::scan_tuple;
use super::display::be_i32;
use super::job::Job;
use super::{CompareError, Side};
use crate::engines::postgres::copy_out;
use crate::engines::TargetConnection;

/// The binary COPY stream's signature.
const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Parses a binary COPY stream into the producer.
struct CopyParser<'a> {
    check: &'a str,
    header_done: bool,
    finished: bool,
    columns: usize,
}

impl CopyParser<'_> {
    fn malformed(&self, message: &str) -> Stop {
        Stop::Error(CompareError::Value {
            check: self.check.to_owned(),
            message: format!("reading the target: {message}"),
        })
    }

    /// Takes every complete tuple at the start of `data`; returns the bytes used.
    fn feed(&mut self, data: &[u8], producer: &mut Producer<'_>) -> Result<usize, Stop> {
        let mut at = 0;
        if !self.header_done {
            if data.len() < 19 {
                return Ok(0);
            }
            if &data[..11] != COPY_SIGNATURE {
                return Err(self.malformed("the COPY stream has no binary signature"));
            }
            let ext = be_i32(&data[15..19]).max(0) as usize;
            if data.len() < 19 + ext {
                return Ok(0);
            }
            at = 19 + ext;
            self.header_done = true;
        }
        while !self.finished {
            let rest = &data[at..];
            if rest.len() >= 2 && rest[..2] == [0xff, 0xff] {
                self.finished = true;
                at += 2;
                break;
            }
            let scanned = scan_tuple(rest, self.columns, &mut producer.canon.spans)
                .map_err(|m| self.malformed(&m))?;
            let Some(len) = scanned else {
                break;
            };
            match producer.config.sums {
                Some(grouping) => producer.sum(grouping, &rest[..len]),
                None => {
                    let start = producer.batch.data.len();
                    producer.batch.data.extend_from_slice(&rest[..len]);
                    producer.push(start)?;
                }
            }
            at += len;
        }
        Ok(at)
    }
}

/// Reads the target with `COPY (sql) TO STDOUT (FORMAT binary)`, always to the end (the
/// connection is unusable until then), and sends its rows.
pub(super) fn read_target(
    conn: &mut TargetConnection,
    sql: &str,
    job: &Job<'_>,
    config: &PassConfig,
    channels: (SyncSender<Msg>, Receiver<Batch>),
) -> Result<(), Stop> {
    let statement = format!("COPY {sql} TO STDOUT (FORMAT binary)");
    let mut reader = copy_out(conn, sql)
        .map_err(|e| Stop::Error(CompareError::query(job.check, Side::Target, &statement, e)))?;
    let mut producer = Producer::new(job.layout, config, Side::Target, channels);
    let mut parser = CopyParser {
        check: job.check,
        header_done: false,
        finished: false,
        columns: job.layout.columns.len(),
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut failure: Option<Stop> = None;
    loop {
        let buf = reader.fill_buf().map_err(|e| {
            Stop::Error(CompareError::query(
                job.check,
                Side::Target,
                &statement,
                diesel::result::Error::DeserializationError(Box::new(e)),
            ))
        })?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        if failure.is_none() && !producer.hung_up && !parser.finished {
            let fed = if pending.is_empty() {
                parser
                    .feed(buf, &mut producer)
                    .map(|used| pending.extend_from_slice(&buf[used..]))
            } else {
                pending.extend_from_slice(buf);
                parser
                    .feed(&pending, &mut producer)
                    .map(|used| drop(pending.drain(..used)))
            };
            if let Err(e) = fed {
                failure = Some(e);
            }
        }
        reader.consume(n);
    }
    drop(reader);
    // Diesel leaves the COPY's completion result unread, and libpq refuses the next
    // statement until it is: `PQexec` (a batch) reads and discards it first.
    conn.batch_execute("SELECT 1")
        .map_err(|e| Stop::Error(CompareError::query(job.check, Side::Target, &statement, e)))?;
    match failure {
        Some(stop) => Err(stop),
        None if !parser.finished && !producer.hung_up => {
            Err(parser.malformed("the COPY stream ended early"))
        }
        None => {
            producer.finish(Summary::default());
            Ok(())
        }
    }
}
