//! `cargo xtask-bench`: the generator over `specs/` (or any docs tree): load, codegen with every
//! file formatted and a regeneration, types and lines, peak memory; then `cargo check` and `cargo
//! build` of the generated crate with all features, the `wechatpay` crate's default families, and
//! one family. Build in release: the numbers of a debug generator say nothing.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::cli::BenchArgs;
use crate::codegen;

/// Entry point of `cargo xtask bench` (`cargo xtask-bench` builds it in release first).
pub fn main(args: &BenchArgs) -> ExitCode {
    let (runs, family, cargo) = (args.runs.get(), args.family.as_str(), !args.no_cargo);
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build of the generator; run `cargo xtask-bench` (release) for real figures");
    }
    match bench(&args.specs, runs, family, cargo) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn bench(specs: &Path, runs: usize, family: &str, cargo: bool) -> Result<(), String> {
    if !specs.is_dir() {
        return Err(format!("{} is not a directory (pass --specs DIR)", specs.display()));
    }
    let out = std::env::temp_dir().join(format!("wechatpay-bench-{}", std::process::id()));
    println!("machine: {} logical CPUs, rayon threads {}", available_cpus(), rayon::current_num_threads());

    // Loading alone (read + pulldown-cmark + lowering + naming + type space).
    let mut load = Vec::with_capacity(runs);
    let mut api = None;
    for _ in 0..runs {
        let start = Instant::now();
        let loaded = crate::load(specs).map_err(|errors| format!("{} bad pages", errors.len()))?;
        std::hint::black_box(crate::typespace::TypeSpace::new(&loaded));
        load.push(start.elapsed());
        api = Some(loaded);
    }
    let api = api.expect("runs > 0");
    let space = crate::typespace::TypeSpace::new(&api);
    // Every file formatted (a fresh directory each run), then a regeneration that keeps the files
    // whose tokens did not change (what `cargo xtask codegen` does when little changed).
    let mut fresh = Vec::with_capacity(runs);
    let mut again = Vec::with_capacity(runs);
    let mut summary = None;
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&out);
        let start = Instant::now();
        let outcome = codegen::run(specs, &out, false).map_err(|errors| format!("{} bad pages", errors.len()))?;
        fresh.push(start.elapsed());
        let start = Instant::now();
        codegen::run(specs, &out, false).map_err(|errors| format!("{} bad pages", errors.len()))?;
        again.push(start.elapsed());
        summary = Some(outcome.summary);
    }
    let summary = summary.expect("runs > 0");
    let median_fresh = median(&mut fresh);
    println!("{}", summary.line(median_fresh));
    let (structs, enums) = space.types().iter().fold((0, 0), |(s, e), t| match t.kind() {
        crate::typespace::TypeKind::Struct => (s + 1, e),
        crate::typespace::TypeKind::Enum => (s, e + 1),
    });
    println!(
        "types: {} ({structs} structures, {enums} enumerations) besides the {} requests; {} lines of Rust in {} files",
        space.types().len(),
        api.operations.len(),
        lines(&out.join("src")),
        summary.files
    );
    println!(
        "codegen over {} pages, {runs} runs: every file formatted median {:.0} ms (min {:.0} ms), {:.0} pages/s; \
         regenerating unchanged pages median {:.0} ms; of which load (parse + lower + names + types) median {:.0} ms",
        summary.pages,
        ms(median_fresh),
        ms(*fresh.iter().min().expect("runs > 0")),
        summary.pages as f64 / median_fresh.as_secs_f64(),
        ms(median(&mut again)),
        ms(median(&mut load)),
    );
    match codegen::peak_memory_kib() {
        Some(kib) => println!("peak memory (VmHWM of the whole run): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak memory: unavailable on this platform"),
    }
    if cargo {
        let target = std::env::current_dir().map_err(|e| e.to_string())?.join("target/bench");
        let default = default_features()?;
        let default_args = ["--features", default.as_str()];
        let family_args = ["--features", family];
        println!("cargo, dependencies already built; each figure a build of the generated crate alone, as a dependency is built (no incremental cache):");
        for (what, args) in [
            ("all features", &["--all-features"][..]),
            ("the `wechatpay` default", &default_args[..]),
            (family, &family_args[..]),
        ] {
            let check = cargo_time(&out, &target, "check", args)?;
            let build = cargo_time(&out, &target, "build", args)?;
            println!("  {what}: check {:.1} s, build {:.1} s", check.as_secs_f64(), build.as_secs_f64());
        }
        let touched = cargo_touched(&out, &target, &["--all-features"])?;
        println!("  all features, check again after touching lib.rs (incremental): {:.1} s", touched.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}

/// The generated families the `wechatpay` crate enables by default, comma-separated.
fn default_features() -> Result<String, String> {
    let manifest = codegen::workspace().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let manifest: toml::Table = text.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    let default = manifest
        .get("features")
        .and_then(|f| f.get("default"))
        .and_then(|d| d.as_array())
        .ok_or("Cargo.toml has no default features")?;
    Ok(default.iter().filter_map(|f| f.as_str()).collect::<Vec<_>>().join(","))
}

fn cargo(dir: &Path, target: &Path, command: &str, args: &[&str], incremental: bool) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([command, "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", if incremental { "1" } else { "0" })
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {command} {} failed", args.join(" ")))
    }
}

/// Builds once for the dependencies, removes the generated crate's own artifacts, then times
/// the command: the crate's own cost, without an incremental cache.
fn cargo_time(dir: &Path, target: &Path, command: &str, args: &[&str]) -> Result<Duration, String> {
    cargo(dir, target, command, args, false)?;
    cargo(dir, target, "clean", &["--package", codegen::CRATE_NAME], false)?;
    let start = Instant::now();
    cargo(dir, target, command, args, false)?;
    Ok(start.elapsed())
}

/// Checks once, then times a second check after touching `lib.rs`, with the incremental cache
/// (how the previous session measured, kept for comparison).
fn cargo_touched(dir: &Path, target: &Path, args: &[&str]) -> Result<Duration, String> {
    cargo(dir, target, "check", args, true)?;
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read(&lib).map_err(|e| e.to_string())?;
    std::fs::write(&lib, text).map_err(|e| e.to_string())?; // a fresh mtime
    let start = Instant::now();
    cargo(dir, target, "check", args, true)?;
    Ok(start.elapsed())
}

fn lines(dir: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                count += text.lines().count();
            }
        }
    }
    count
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
