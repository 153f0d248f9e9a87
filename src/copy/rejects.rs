//! Where rejected rows go: a JSON-lines file (one object per line, buffered so ten thousand
//! rejects cost milliseconds), or a vector for tests and for loading a rejects table later.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{CopyError, Reject, RejectSink};

/// Appends rejects to a JSON-lines file, made at the first reject: a run that rejects nothing
/// leaves no file (and no stale one from an earlier run) for a reader to wonder about.
pub struct JsonLinesRejects {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    /// Open an existing file for appending rather than truncate it.
    append: bool,
    count: u64,
}

impl JsonLinesRejects {
    /// Rejects for a new file at `path`; an existing file there is removed now, so what is at
    /// `path` afterwards is this run's rejects or nothing.
    pub fn create(path: &Path) -> Result<JsonLinesRejects, CopyError> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(CopyError::Rejects {
                    path: path.to_owned(),
                    source,
                })
            }
        }
        Ok(Self::lazy(path, false))
    }

    /// Rejects appended to the file at `path`, made when missing (a resumed run keeps earlier
    /// rejects).
    pub fn append(path: &Path) -> Result<JsonLinesRejects, CopyError> {
        Ok(Self::lazy(path, true))
    }

    fn lazy(path: &Path, append: bool) -> JsonLinesRejects {
        JsonLinesRejects {
            path: path.to_owned(),
            out: None,
            append,
            count: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rejects written through this sink.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes and closes the file, returning how many rejects it received.
    pub fn finish(mut self) -> Result<u64, CopyError> {
        self.flush()?;
        Ok(self.count)
    }

    fn io(&self, source: std::io::Error) -> CopyError {
        CopyError::Rejects {
            path: self.path.clone(),
            source,
        }
    }

    /// The open file, opened (created, or for appending) at the first reject.
    fn file(&mut self) -> Result<&mut BufWriter<File>, CopyError> {
        let out = match self.out.take() {
            Some(out) => out,
            None => {
                let file = if self.append {
                    OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&self.path)
                } else {
                    File::create(&self.path)
                }
                .map_err(|e| self.io(e))?;
                BufWriter::with_capacity(64 * 1024, file)
            }
        };
        Ok(self.out.insert(out))
    }
}

impl RejectSink for JsonLinesRejects {
    fn reject(&mut self, r: Reject) -> Result<(), CopyError> {
        let out = self.file()?;
        let written = serde_json::to_writer(&mut *out, &r)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        written.map_err(|e| self.io(e))?;
        self.count += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CopyError> {
        match self.out.as_mut().map(Write::flush) {
            Some(Err(e)) => Err(self.io(e)),
            _ => Ok(()),
        }
    }
}

/// Keeps rejects in memory.
#[derive(Debug, Default)]
pub struct VecRejects {
    pub rejects: Vec<Reject>,
}

impl RejectSink for VecRejects {
    fn reject(&mut self, r: Reject) -> Result<(), CopyError> {
        self.rejects.push(r);
        Ok(())
    }
}
