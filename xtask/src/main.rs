//! `cargo xtask codegen | import | ir | diff | changelog | semver | bench`: see `--help` and the
//! README.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use xtask::cli::{Cli, CodegenArgs, Command, ImportArgs, IrArgs};
use xtask::codegen::{self, Outcome};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Codegen(args) => run_codegen(&args),
        Command::Import(args) => run_import(&args),
        Command::Ir(args) => run_ir(&args),
        Command::Diff(args) => in_process(|cwd, out, err| xtask::diff::run(&args, cwd, out, err)),
        Command::Changelog(args) => in_process(|cwd, out, err| xtask::changelog::run(&args, cwd, out, err)),
        Command::Semver => in_process(xtask::release::run),
        Command::RustVersion => in_process(|_, out, err| xtask::rust_version::run(&codegen::workspace(), out, err)),
        Command::Bench(args) => xtask::bench::main(&args),
    }
}

/// Runs a command that writes to the streams it is given (so that tests can read them) in this
/// process's working directory, with its stdout and stderr.
fn in_process(command: impl FnOnce(&Path, &mut dyn Write, &mut dyn Write) -> u8) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    ExitCode::from(command(&cwd, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()))
}

fn run_codegen(args: &CodegenArgs) -> ExitCode {
    let (specs, out, check) = (&args.specs, &args.out, args.check);
    let runtime = args.runtime.clone().unwrap_or_else(|| codegen::runtime_dependency(out));
    let start = Instant::now();
    let previous = |path: &str| std::fs::read_to_string(out.join(path)).ok();
    let previous: Option<xtask::emit::Previous<'_>> = if check { None } else { Some(&previous) };
    let package = codegen::package(out, !args.no_publish);
    let options = xtask::emit::Options { crate_name: &args.name, runtime: &runtime, package, previous };
    let result = codegen::run_with(specs, out, check, &options);
    let elapsed = start.elapsed();
    match result {
        Ok(Outcome { summary, problems, warnings, coverage, times }) => {
            for warning in &warnings {
                eprintln!("warning: {warning}");
            }
            println!("{}", summary.line(elapsed));
            if args.stats {
                print_coverage(&coverage);
                print!("{}", times.report());
                if let Some(peak) = codegen::peak_memory_kib() {
                    println!("peak memory: {:.1} MiB", peak as f64 / 1024.0);
                }
            }
            if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                for problem in &problems {
                    eprintln!("{problem}");
                }
                eprintln!(
                    "{} generated file(s) out of date with {}: run `cargo xtask codegen`",
                    problems.len(),
                    specs.display()
                );
                ExitCode::FAILURE
            }
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            let pages: std::collections::BTreeSet<&str> = errors.iter().map(|e| e.file.as_str()).collect();
            eprintln!("{} error(s) in {} page(s); nothing written", errors.len(), pages.len());
            ExitCode::FAILURE
        }
    }
}

fn run_ir(args: &IrArgs) -> ExitCode {
    match xtask::load(&args.specs) {
        Ok(api) => match serde_json::to_string_pretty(&api) {
            Ok(json) => {
                use std::io::Write;
                // A reader that stops early (`| head`) is not an error.
                match writeln!(std::io::stdout().lock(), "{json}") {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                    _ => ExitCode::SUCCESS,
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run_import(args: &ImportArgs) -> ExitCode {
    let (docs, specs, check) = (&args.docs, &args.specs, args.check);
    let start = Instant::now();
    match xtask::import::run(docs, specs, check) {
        Ok(report) => {
            let verb = if check { "would be" } else { "" };
            for (what, list) in [("added", &report.added), ("changed", &report.changed), ("removed", &report.removed)] {
                for page in list.iter() {
                    println!("{what:>8}{} {page}", if verb.is_empty() { String::new() } else { format!(" ({verb})") });
                }
            }
            for warning in &report.reviewed {
                println!("reviewed: {warning}");
            }
            for warning in &report.unreviewed {
                eprintln!(
                    "warning: {warning} (not reviewed: correct it or accept it in specs/{})",
                    xtask::import::OVERRIDES
                );
            }
            println!("{} in {} ms", report.summary(), start.elapsed().as_millis());
            if check && !report.up_to_date() {
                eprintln!("specs/ is not what `cargo xtask import {}` writes", docs.display());
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            eprintln!("{} error(s); nothing written", errors.len());
            ExitCode::FAILURE
        }
    }
}

/// The coverage table, as Markdown (the README's).
fn print_coverage(coverage: &std::collections::BTreeMap<String, codegen::Coverage>) {
    println!("| Family (cargo feature) | Operations | Notifications | Fields described in our words |");
    println!("| --- | ---: | ---: | ---: |");
    let mut total = codegen::Coverage::default();
    for (family, c) in coverage {
        println!(
            "| `{family}` | {} | {} | {:.0}% of {} |",
            c.operations,
            c.notifications,
            xtask::import::percent(c.described, c.rows),
            c.rows
        );
        total.operations += c.operations;
        total.notifications += c.notifications;
        total.rows += c.rows;
        total.described += c.described;
    }
    println!(
        "| **all** | **{}** | **{}** | **{:.1}% of {}** |",
        total.operations,
        total.notifications,
        xtask::import::percent(total.described, total.rows),
        total.rows
    );
}
