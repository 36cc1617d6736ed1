//! The real documentation: every page of `../shared/corpus` generates, and the crate compiles
//! with no warnings (clippy included). Skipped when the corpus is absent.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Operations counted straight from the markdown, without the generator: headings carrying a
/// method anchor, on pages that are not redirects.
fn count_operations(dir: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            if text.lines().any(|l| l.starts_with("title: Moved to")) {
                continue;
            }
            let mut in_code = false;
            for line in text.lines() {
                if line.starts_with("```") {
                    in_code = !in_code;
                }
                if !in_code && line.starts_with('#') {
                    let anchors = ["{#get}", "{#post}", "{#put}", "{#patch}", "{#delete}"];
                    count += usize::from(anchors.iter().any(|a| line.trim_end().ends_with(a)));
                }
            }
        }
    }
    count
}

#[test]
fn whole_corpus_generates_and_compiles_without_warnings() {
    let corpus = root().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let expected = count_operations(&corpus.join("openapi")) + count_operations(&corpus.join("webhook"));
    let out = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let outcome = xtask::codegen::run(&corpus, out.path(), false).unwrap_or_else(|errors| {
        panic!("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    });
    let generated = start.elapsed();
    let summary = &outcome.summary;
    println!("{}", summary.line(generated));
    println!("{} page defects worked around:", outcome.warnings.len());
    for warning in &outcome.warnings {
        println!("  {warning}");
    }
    assert_eq!(summary.operations + summary.notifications, expected, "operations found vs headings with a method anchor");

    // One target directory for every run of this test (CI checks the corpus crate once).
    let target = root().join("target/corpus");
    let start = Instant::now();
    let clippy = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--all-features", "--manifest-path"])
        .arg(out.path().join("Cargo.toml"))
        .args(["--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(clippy.success(), "the generated corpus crate has errors or warnings");
    println!("clippy --all-features -D warnings of the corpus crate: {:.1} s", start.elapsed().as_secs_f64());
}
