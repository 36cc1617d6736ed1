//! `cargo xtask-bench`: the generator over a whole docs tree (wall time, pages/s, peak memory),
//! then `cargo check` of the generated crate, in full and for one family. Build in release: the
//! numbers of a debug generator say nothing about what maintainers run.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::codegen;

const USAGE: &str = "usage: cargo xtask-bench [--corpus DIR] [--runs N] [--family NAME] [--no-check]";

pub fn main(args: Vec<String>) -> ExitCode {
    let mut corpus = PathBuf::from("../shared/corpus");
    let mut runs = 5usize;
    let mut family = "pay".to_owned();
    let mut check = true;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--no-check" => {
                check = false;
                continue;
            }
            "--corpus" | "--runs" | "--family" => args.next(),
            _ => None,
        };
        let Some(value) = value else {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        };
        match arg.as_str() {
            "--corpus" => corpus = PathBuf::from(value),
            "--family" => family = value,
            _ => match value.parse() {
                Ok(n) if n > 0 => runs = n,
                _ => {
                    eprintln!("--runs takes a positive number\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build of the generator; run `cargo xtask-bench` (release) for real figures");
    }
    match bench(&corpus, runs, &family, check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn bench(corpus: &Path, runs: usize, family: &str, check: bool) -> Result<(), String> {
    if !corpus.is_dir() {
        return Err(format!("{} is not a directory (pass --corpus DIR)", corpus.display()));
    }
    let out = std::env::temp_dir().join(format!("wechatpay-bench-{}", std::process::id()));
    println!("machine: {} logical CPUs, rayon threads {}", available_cpus(), rayon::current_num_threads());

    // Loading alone (read + pulldown-cmark + lowering), to show where the time goes.
    let mut load = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let api = crate::load(corpus).map_err(|errors| format!("{} bad pages", errors.len()))?;
        load.push(start.elapsed());
        std::hint::black_box(api);
    }
    let mut total = Vec::with_capacity(runs);
    let mut summary = None;
    for _ in 0..runs {
        let start = Instant::now();
        let outcome = codegen::run(corpus, &out, false).map_err(|errors| format!("{} bad pages", errors.len()))?;
        total.push(start.elapsed());
        summary = Some(outcome.summary);
    }
    let summary = summary.expect("runs > 0");
    let median_total = median(&mut total);
    let pages_per_second = summary.pages as f64 / median_total.as_secs_f64();
    println!("{}", summary.line(median_total));
    println!(
        "codegen over {} pages, {runs} runs: median {:.0} ms (min {:.0} ms), {:.0} pages/s; of which load (parse + lower) median {:.0} ms",
        summary.pages,
        ms(median_total),
        ms(*total.iter().min().expect("runs > 0")),
        pages_per_second,
        ms(median(&mut load)),
    );
    match codegen::peak_memory_kib() {
        Some(kib) => println!("peak memory (VmHWM of the whole run): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak memory: unavailable on this platform"),
    }
    if check {
        let target = std::env::current_dir().map_err(|e| e.to_string())?.join("target/bench");
        let full = cargo_check(&out, &target, &["--all-features"])?;
        let one = cargo_check(&out, &target, &["--no-default-features", "--features", family])?;
        println!("cargo check of the generated crate (dependencies already built): full {:.1} s, `{family}` alone {:.1} s", full.as_secs_f64(), one.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}

/// Checks once to build the dependencies, then times a second check after touching the crate,
/// so the figure is the generated crate's own cost.
fn cargo_check(dir: &Path, target: &Path, features: &[&str]) -> Result<Duration, String> {
    let manifest = dir.join("Cargo.toml");
    let run = || {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .args(features)
            .env("CARGO_TARGET_DIR", target)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))
    };
    if !run()?.success() {
        return Err(format!("cargo check {} failed", features.join(" ")));
    }
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read(&lib).map_err(|e| e.to_string())?;
    std::fs::write(&lib, text).map_err(|e| e.to_string())?; // a fresh mtime
    let start = Instant::now();
    if !run()?.success() {
        return Err(format!("cargo check {} failed", features.join(" ")));
    }
    Ok(start.elapsed())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
