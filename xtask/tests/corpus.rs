//! The real documentation (`../shared/corpus`, skipped when absent): `specs/` is its import, every
//! page survives the round trip through the canonical format with its facts intact, and every
//! operation is found. (`generated/` is `specs/`'s codegen, checked by `codegen.rs`, and compiled
//! with the workspace.)

use std::path::{Path, PathBuf};

use xtask::import::{self, overrides::Overrides};
use xtask::lower::Lowered;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn corpus() -> Option<PathBuf> {
    let corpus = root().join("../shared/corpus");
    if corpus.is_dir() {
        Some(corpus)
    } else {
        eprintln!("skipped: {} is absent", corpus.display());
        None
    }
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
fn specs_are_the_import_of_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let report = import::run(&corpus, &root().join("specs"), true)
        .unwrap_or_else(|errors| panic!("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")));
    println!("{}", report.summary());
    assert!(report.unreviewed.is_empty(), "page defects nobody reviewed:\n{}", report.unreviewed.join("\n"));
    assert!(
        report.up_to_date(),
        "specs/ is not the import of the corpus (added {:?}, changed {:?}, removed {:?}): run `cargo xtask import ../shared/corpus`",
        report.added,
        report.changed,
        report.removed
    );
    // The generator reads the APIv3 pages (`openapi/v3`, `webhook/v3`) and APIv2's (`openapi/v2`,
    // `webhook/v2`).
    let v3 = count_operations(&corpus.join("openapi/v3")) + count_operations(&corpus.join("webhook/v3"));
    let v2 = count_operations(&corpus.join("openapi/v2")) + count_operations(&corpus.join("webhook/v2"));
    assert_eq!(report.operations + report.notifications, v3 + v2, "operations found vs headings with a method anchor");
    let api = xtask::load(&root().join("specs")).unwrap_or_else(|errors| panic!("{}", errors[0]));
    let v2_found = |protocol| {
        api.operations.iter().filter(|op| op.protocol == protocol).count()
            + api.notifications.iter().filter(|n| n.protocol == protocol).count()
    };
    assert_eq!(
        v2_found(xtask::ir::Protocol::V2),
        v2,
        "APIv2 operations and notifications vs headings with a method anchor"
    );
    println!("APIv2: {v2} operations and notifications, APIv3: {v3}");
    let described = import::percent(report.described, report.rows);
    assert!(described >= 80.0, "only {described:.1}% of the rows have a description of ours");
}

/// Every corpus page, read (with its reviewed override), and the page the import writes for it,
/// read back: the same facts (the IR with descriptions and line numbers removed).
#[test]
fn every_corpus_page_round_trips_through_the_canonical_format() {
    let Some(corpus) = corpus() else { return };
    let specs = root().join("specs");
    let overrides = Overrides::read(&specs.join(import::OVERRIDES)).unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::copy(specs.join(import::OVERRIDES), out.path().join(import::OVERRIDES)).unwrap();
    copy_dir(&specs.join(import::FRAGMENTS), &out.path().join(import::FRAGMENTS));
    import::run(&corpus, out.path(), false).unwrap_or_else(|errors| panic!("{}", errors[0]));

    let pages: Vec<(String, String)> = xtask::load::pages(&corpus)
        .unwrap()
        .into_iter()
        .map(|(relative, path)| (relative, std::fs::read_to_string(path).unwrap()))
        .collect();
    // The rule deciding times reads every page's samples, as the import does.
    let samples = import::formats::Samples::collect(pages.iter().map(|(r, t)| (r.as_str(), t.as_str())));
    let fragments = specs.join(import::FRAGMENTS);
    let source = import::Source { overrides: &overrides, fragments: &fragments, samples: &samples };

    let (mut same, mut total, mut corrected) = (0, 0, 0);
    let mut different = Vec::new();
    for (relative, text) in &pages {
        let original = source.read(relative, text).unwrap_or_else(|errors| panic!("{}", errors[0]));
        if original == Lowered::Redirect {
            continue;
        }
        total += 1;
        corrected += usize::from(overrides.for_page(relative).is_some());
        let imported = std::fs::read_to_string(out.path().join(relative)).unwrap();
        let back = import::read(relative, &imported, None, None).unwrap_or_else(|errors| panic!("{}", errors[0]));
        if import::facts(&original) == import::facts(&back) {
            same += 1;
        } else {
            different.push(relative.clone());
        }
    }
    println!("{same}/{total} corpus pages round-trip through the canonical format ({corrected} read through a reviewed override)");
    assert!(different.is_empty(), "pages whose facts change: {different:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}
