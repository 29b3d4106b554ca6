//! `gradscope bench scans`: the scan race as a table in the terminal, one per backend.

use super::race::{RACE_CHANNELS, RACE_LENGTHS, RACE_STATES, RaceEntry, RaceTarget, measure};
use crate::backend::{self, Backend, BackendKind};
use crate::train::lab_command::CommandError;

/// `gradscope bench scans`: the scan race on each backend of `kinds`, one row per target and
/// one column per length (default [`RACE_LENGTHS`]); a target slower than `cap_seconds` at one
/// length skips the longer ones. Prints as it measures; the rows end with the speed-ups of the
/// parallel and chunked scans over the sequential one, measured in the same run.
pub fn print_race(
    kinds: &[BackendKind],
    lengths: &[usize],
    cap_seconds: f64,
) -> Result<(), CommandError> {
    let lengths = if lengths.is_empty() { &RACE_LENGTHS[..] } else { lengths };
    if lengths.iter().any(|&l| !(1..=1 << 20).contains(&l)) {
        return Err(CommandError::Input("--lengths must be 1..=1048576 each".into()));
    }
    if !(cap_seconds.is_finite() && cap_seconds > 0.0) {
        return Err(CommandError::Input("--cap-seconds must be positive".into()));
    }
    let counting = kinds.contains(&BackendKind::Wgpu) && backend::count_gpu_dispatches();
    let mut lengths = lengths.to_vec();
    lengths.sort_unstable();
    lengths.dedup();
    println!(
        "ms per forward+backward (batch 1, {} channels, {} states); [GPU dispatches per call]",
        RACE_CHANNELS, RACE_STATES
    );
    for &b in kinds {
        let backend = match backend::native(b) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{b:?}: unavailable: {e}");
                continue;
            }
        };
        let gpu = counting && backend.kind == BackendKind::Wgpu;
        let count = || if gpu { backend::gpu_dispatches() } else { None };
        println!("\n{}", backend.label);
        let header: String = lengths.iter().map(|l| format!("{:>16}", format!("L={l}"))).collect();
        println!("{:<18}{header}", "");
        let mut rows: Vec<(RaceTarget, Vec<Option<RaceEntry>>)> = Vec::new();
        for target in RaceTarget::ALL {
            rows.push((target, race_row(target, &lengths, &backend, cap_seconds * 1e3, count)?));
        }
        // Ratios within this backend's run: sequential / parallel and sequential / chunked.
        let ms = |t: RaceTarget, i: usize| {
            rows.iter().find(|(r, _)| *r == t).and_then(|(_, row)| row[i].as_ref()?.ms)
        };
        for (name, fast) in [
            ("sequential / parallel", RaceTarget::Parallel),
            ("sequential / chunked", RaceTarget::Chunked),
        ] {
            let cells: String = (0..lengths.len())
                .map(|i| match (ms(RaceTarget::Sequential, i), ms(fast, i)) {
                    (Some(s), Some(f)) => format!("{:>16}", format!("{:.2}×", s / f)),
                    _ => format!("{:>16}", "–"),
                })
                .collect();
            println!("{name:<18}{cells}");
        }
    }
    Ok(())
}

/// One target's row: measured at each length, shortest first, until one passes `cap_ms`
/// (the longer ones are then skipped); printed as it fills in on a terminal.
fn race_row(
    target: RaceTarget,
    lengths: &[usize],
    backend: &Backend,
    cap_ms: f64,
    count: impl Fn() -> Option<u64> + Copy,
) -> Result<Vec<Option<RaceEntry>>, CommandError> {
    use std::io::{IsTerminal as _, Write as _};
    let terminal = std::io::stdout().is_terminal();
    let mut row = Vec::new();
    let mut capped = false;
    let mut line = format!("{:<18}", target.name());
    for &len in lengths {
        if capped {
            line.push_str(&format!("{:>16}", "(capped)"));
            row.push(None);
            continue;
        }
        let pause = async || std::thread::sleep(std::time::Duration::from_millis(50));
        let (device, limits) = (&backend.device, backend.limits);
        match pollster::block_on(measure(target, len, device, limits, cap_ms, count, pause)) {
            Ok(e) if e.ms.is_none() => {
                let why = e.note.as_deref().unwrap_or("skipped");
                eprintln!("{} at L = {len}: {why}", target.name());
                line.push_str(&format!("{:>16}", "(too large)"));
                row.push(None);
                capped = true;
            }
            Ok(e) => {
                let ms = e.ms.unwrap_or(f64::NAN);
                capped = ms > cap_ms;
                let cell = match e.dispatches {
                    Some(d) => format!("{ms:.1} [{d:.0}]"),
                    None => format!("{ms:.2}"),
                };
                line.push_str(&format!("{cell:>16}"));
                row.push(Some(e));
            }
            Err(e) => return Err(CommandError::Failed(format!("{}: {e}", target.name()))),
        }
        // On a terminal the row fills in as it is measured; in a file it is written once.
        if terminal {
            print!("\r{line}");
            let _ = std::io::stdout().flush();
        }
    }
    if terminal {
        println!();
    } else {
        println!("{line}");
    }
    Ok(row)
}
