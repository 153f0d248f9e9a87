//! Where rejected rows go: a JSON-lines file (one object per line, buffered so ten thousand
//! rejects cost milliseconds), or a vector for tests and for loading a rejects table later.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{CopyError, Reject, RejectSink};

/// Appends rejects to a JSON-lines file.
pub struct JsonLinesRejects {
    path: PathBuf,
    out: BufWriter<File>,
    count: u64,
}

impl JsonLinesRejects {
    /// Creates (or truncates) the file.
    pub fn create(path: &Path) -> Result<JsonLinesRejects, CopyError> {
        let file = File::create(path).map_err(|source| CopyError::Rejects {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::with_file(path, file))
    }

    /// Opens the file for appending, creating it when missing (a resumed run keeps earlier rejects).
    pub fn append(path: &Path) -> Result<JsonLinesRejects, CopyError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| CopyError::Rejects {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self::with_file(path, file))
    }

    fn with_file(path: &Path, file: File) -> JsonLinesRejects {
        JsonLinesRejects {
            path: path.to_owned(),
            out: BufWriter::with_capacity(64 * 1024, file),
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
}

impl RejectSink for JsonLinesRejects {
    fn reject(&mut self, r: Reject) -> Result<(), CopyError> {
        serde_json::to_writer(&mut self.out, &r).map_err(|e| self.io(e.into()))?;
        self.out.write_all(b"\n").map_err(|e| self.io(e))?;
        self.count += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CopyError> {
        self.out.flush().map_err(|e| self.io(e))
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
