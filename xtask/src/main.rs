//! `cargo xtask codegen | ir | diff | bench`: see the README.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use xtask::codegen::{self, Outcome};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage:
  cargo xtask codegen [--specs DIR] [--out DIR] [--name CRATE] [--runtime DEPENDENCY] [--check] [--stats]
  cargo xtask import DOCS [--specs DIR] [--check]
  cargo xtask ir [--specs DIR]
  cargo xtask diff OLD NEW | --git REV  [--format text|markdown|json] [--deny-breaking] [--show-descriptions]
  cargo xtask-bench [--specs DIR] [--runs N] [--family NAME] [--no-cargo]   (release build)";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let command = args.remove(0);
    match command.as_str() {
        "codegen" => run_codegen(&args),
        "ir" => run_ir(&args),
        "import" => run_import(&args),
        "diff" => xtask::diff::main(args),
        "bench" => xtask::bench::main(args),
        _ => {
            eprintln!("unknown command `{command}`\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

fn option(args: &[String], name: &str) -> Result<Option<PathBuf>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args.get(i + 1).map(|v| Some(PathBuf::from(v))).ok_or(format!("{name} needs a directory")),
    }
}

fn run_codegen(args: &[String]) -> ExitCode {
    let parsed = (|| -> Result<(PathBuf, PathBuf), String> {
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "--specs" | "--out" | "--name" | "--runtime" => {
                    rest.next().ok_or(format!("{arg} needs a value"))?;
                }
                "--check" | "--stats" => {}
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let specs = option(args, "--specs")?.unwrap_or_else(|| root().join("specs"));
        let out = option(args, "--out")?.unwrap_or_else(|| root().join("generated"));
        Ok((specs, out))
    })();
    let (specs, out) = match parsed {
        Ok(paths) => paths,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = |name: &str| option(args, name).ok().flatten().map(|p| p.display().to_string());
    let name = text("--name").unwrap_or_else(|| codegen::CRATE_NAME.to_owned());
    let runtime = text("--runtime").unwrap_or_else(|| codegen::runtime_dependency(&out));
    let check = args.iter().any(|a| a == "--check");
    let start = Instant::now();
    let previous = |path: &str| std::fs::read_to_string(out.join(path)).ok();
    let previous: Option<xtask::emit::Previous<'_>> = if check { None } else { Some(&previous) };
    let options = xtask::emit::Options { crate_name: &name, runtime: &runtime, previous };
    let result = codegen::run_with(&specs, &out, check, &options);
    let elapsed = start.elapsed();
    match result {
        Ok(Outcome { summary, problems, warnings, coverage }) => {
            for warning in &warnings {
                eprintln!("warning: {warning}");
            }
            println!("{}", summary.line(elapsed));
            if args.iter().any(|a| a == "--stats") {
                print_coverage(&coverage);
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
                eprintln!("{} generated file(s) out of date with {}: run `cargo xtask codegen`", problems.len(), specs.display());
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

fn run_ir(args: &[String]) -> ExitCode {
    let specs = match option(args, "--specs") {
        Ok(dir) => dir.unwrap_or_else(|| root().join("specs")),
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match xtask::load(&specs) {
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

fn run_import(args: &[String]) -> ExitCode {
    let parsed = (|| -> Result<(PathBuf, PathBuf), String> {
        let mut docs = None;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "--specs" => {
                    rest.next().ok_or("--specs needs a directory")?;
                }
                "--check" => {}
                other if other.starts_with("--") => return Err(format!("unknown option `{other}`")),
                other if docs.is_none() => docs = Some(PathBuf::from(other)),
                other => return Err(format!("unexpected argument `{other}`")),
            }
        }
        let docs = docs.ok_or("import needs the docs tree (e.g. ../shared/corpus)")?;
        let specs = option(args, "--specs")?.unwrap_or_else(|| root().join("specs"));
        Ok((docs, specs))
    })();
    let (docs, specs) = match parsed {
        Ok(paths) => paths,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let check = args.iter().any(|a| a == "--check");
    let start = Instant::now();
    match xtask::import::run(&docs, &specs, check) {
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
                eprintln!("warning: {warning} (not reviewed: correct it or accept it in specs/{})", xtask::import::OVERRIDES);
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
        println!("| `{family}` | {} | {} | {:.0}% of {} |", c.operations, c.notifications, xtask::import::percent(c.described, c.rows), c.rows);
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
