//! `decant graph PLAN --format dot|mermaid`: the step graph.

use std::io::Write;

use super::{prepare, Failure, Profiling, EXIT_OK};
use crate::cli::{GraphArgs, GraphFormat};

pub fn run(args: &GraphArgs, out: &mut dyn Write, _err: &mut dyn Write) -> Result<u8, Failure> {
    let prepared = prepare(&args.plan, Profiling::Needed).map_err(Failure::Plan)?;
    let text = match args.format {
        GraphFormat::Dot => prepared.graph.to_dot(),
        GraphFormat::Mermaid => prepared.graph.to_mermaid(),
    };
    out.write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}
