//! The generator's output: snapshots of small fixture pages, determinism, `--check`, and the
//! freshness of the committed `generated/` crate.

use std::path::{Path, PathBuf};

use xtask::codegen::{run, CRATE_NAME};
use xtask::emit::{emit, Files, Options, Package};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codegen")
}

/// The fixture crate, depending on the runtime by a fixed relative path.
fn fixture_files() -> Files {
    let api = xtask::load(&fixtures()).unwrap();
    emit(
        &api,
        &xtask::typespace::TypeSpace::new(&api),
        &Options {
            crate_name: CRATE_NAME,
            runtime: "{ path = \"../runtime\" }",
            package: Package::Standalone { publish: true },
            previous: None,
        },
    )
    .unwrap()
}

/// Generated files for the fixture pages match `tests/snapshots/codegen/`. `UPDATE_SNAPSHOTS=1`
/// rewrites the expected files.
#[test]
fn fixture_pages_generate_the_expected_code() {
    let files = fixture_files();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/codegen");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut mismatches = Vec::new();
    for (path, contents) in &files {
        let expected = snapshots.join(path);
        if update {
            std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
            std::fs::write(&expected, contents).unwrap();
        } else if std::fs::read_to_string(&expected).ok().as_ref() != Some(contents) {
            mismatches.push(path.clone());
        }
    }
    assert!(mismatches.is_empty(), "snapshots differ: {mismatches:?}; review, then rerun with UPDATE_SNAPSHOTS=1");
}

#[test]
fn output_is_byte_identical_across_runs() {
    let first = fixture_files();
    let second = fixture_files();
    assert_eq!(first, second);
    assert!(first.values().all(|f| f.starts_with("// @generated") || f.starts_with("# @generated")));
}

#[test]
fn check_names_stale_missing_and_extra_files() {
    let out = tempfile::tempdir().unwrap();
    run(&fixtures(), out.path(), false).unwrap();
    assert!(run(&fixtures(), out.path(), true).unwrap().problems.is_empty());
    std::fs::write(out.path().join("src/lib.rs"), "// edited by hand\n").unwrap();
    std::fs::remove_file(out.path().join("src/v3/demo/upload.rs")).unwrap();
    std::fs::write(out.path().join("src/v3/stray.rs"), "").unwrap();
    let mut problems = run(&fixtures(), out.path(), true).unwrap().problems;
    problems.sort();
    let names: Vec<String> = problems.iter().map(|p| p.replace(&out.path().display().to_string(), "OUT")).collect();
    assert_eq!(names, ["extra: OUT/src/v3/stray.rs", "missing: OUT/src/v3/demo/upload.rs", "stale: OUT/src/lib.rs"]);
    // A normal run repairs all three.
    run(&fixtures(), out.path(), false).unwrap();
    assert!(run(&fixtures(), out.path(), true).unwrap().problems.is_empty());
}

/// `generated/` is exactly what `specs/` produce.
#[test]
fn generated_crate_is_up_to_date_with_specs() {
    let outcome = run(&root().join("specs"), &root().join("generated"), true).unwrap();
    assert!(
        outcome.problems.is_empty(),
        "generated/ is out of date with specs/ — run `cargo xtask codegen` and commit the result:\n{}",
        outcome.problems.join("\n")
    );
}

/// Writing keeps a file whose fingerprint (of its tokens) is unchanged without formatting it
/// again, which is what makes a regeneration fast; `--check` formats everything, so a generated
/// file edited by hand under an intact header is still found.
#[test]
fn unchanged_files_are_kept_and_check_still_finds_edits() {
    let out = tempfile::tempdir().unwrap();
    run(&fixtures(), out.path(), false).unwrap();
    let lib = out.path().join("src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap();
    let header: String = original.lines().take(2).map(|l| format!("{l}\n")).collect();
    let edited = format!("{header}\n// edited by hand under the header\n");
    std::fs::write(&lib, &edited).unwrap();

    run(&fixtures(), out.path(), false).unwrap();
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), edited, "same fingerprint: not formatted again");
    let problems = run(&fixtures(), out.path(), true).unwrap().problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("stale:") && problems[0].ends_with("src/lib.rs"), "{problems:?}");
}

/// `tests/fixture-crate/` is what the fixture pages produce as a crate of its own (named
/// `wechatpay-fixture`, depending on the runtime by path): a user's crate generated from another
/// docs tree, which the client must send unchanged (`tests/generated_elsewhere.rs`).
#[test]
fn the_fixture_crate_is_up_to_date() {
    let options = Options {
        crate_name: "wechatpay-fixture",
        runtime: "{ path = \"../../runtime\" }",
        package: Package::Standalone { publish: false },
        previous: None,
    };
    let outcome = xtask::codegen::run_with(&fixtures(), &root().join("tests/fixture-crate"), true, &options).unwrap();
    assert!(
        outcome.problems.is_empty(),
        "tests/fixture-crate/ is out of date — run `cargo xtask codegen --specs xtask/tests/fixtures/codegen --out tests/fixture-crate --name wechatpay-fixture --runtime '{{ path = \"../../runtime\" }}' --no-publish`:\n{}",
        outcome.problems.join("\n")
    );
}

/// The sandbox's copy of the IR is deterministic (the same bytes from the same pages), holds no
/// prose, and `--check` finds it stale when its JSON differs.
#[test]
fn the_sandbox_copy_is_deterministic_prose_free_and_checked() {
    use xtask::codegen::sandbox_api;
    let api = xtask::load(&fixtures()).unwrap();
    let json = sandbox_api::json(&api);
    assert_eq!(sandbox_api::compress(&json).unwrap(), sandbox_api::compress(&json).unwrap());
    let read: xtask::ir::Api = serde_json::from_slice(&json).unwrap();
    let v3 = |protocol: xtask::ir::Protocol| protocol == xtask::ir::Protocol::V3;
    assert_eq!(read.operations.len(), api.operations.iter().filter(|op| v3(op.protocol)).count());
    assert!(read.operations.iter().all(|op| op.description.is_empty() && v3(op.protocol)));
    assert!(read.warnings.is_empty());
    // APIv2's pages are a file of their own, holding only them.
    let v2: xtask::ir::Api = serde_json::from_slice(&sandbox_api::json_of(&api, xtask::ir::Protocol::V2)).unwrap();
    assert_eq!((v2.operations.len(), v2.notifications.len(), v2.pages), (2, 1, 3));
    assert!(v2.operations.iter().all(|op| !v3(op.protocol)));

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("api/v3.json.gz");
    assert!(sandbox_api::sync(&api, &copy, true).unwrap()[0].starts_with("missing: "));
    assert!(sandbox_api::sync(&api, &copy, false).unwrap().is_empty());
    let written = std::fs::read(&copy).unwrap();
    assert_eq!(written[4..8], [0, 0, 0, 0], "no modification time in the gzip header");
    assert!(sandbox_api::sync(&api, &copy, true).unwrap().is_empty());
    std::fs::write(&copy, sandbox_api::compress(b"{}").unwrap()).unwrap();
    assert!(sandbox_api::sync(&api, &copy, true).unwrap()[0].starts_with("stale: "));
}

/// `codegen --stats`: the fields typed as times, by format, and the strings (or numbers) whose
/// name looks like a time but that hold none, each with its reason.
#[test]
fn stats_count_times_by_format_and_say_why_a_look_alike_is_none() {
    use xtask::ir::TimeFormat;
    let api = xtask::load(&fixtures()).unwrap();
    let stats = xtask::times::TimeStats::of(&api);
    let typed: Vec<(TimeFormat, usize)> = stats.typed.iter().map(|(f, n)| (*f, *n)).collect();
    assert_eq!(
        typed,
        [
            (TimeFormat::Rfc3339, 3), // settlements' time_expire and success_time, DEMO.DONE's done_time (once)
            (TimeFormat::Compact, 3),
            (TimeFormat::Spaced, 1),
            (TimeFormat::Date, 1),
            (TimeFormat::CompactDate, 1),
            (TimeFormat::HourMinute, 1),
        ]
    );
    let untyped: Vec<(&str, &str)> = stats.untyped.iter().map(|(at, why)| (at.as_str(), why.as_str())).collect();
    assert_eq!(untyped.len(), 2, "{untyped:?}");
    assert_eq!(untyped[0].0, "openapi/v3/demo/settlements.md:27 duration_time");
    assert!(untyped[0].1.starts_with("`data-format=text`"), "{}", untyped[0].1);
    assert_eq!(untyped[1].0, "openapi/v3/demo/settlements.md:28 notify_time");
    assert!(untyped[1].1.starts_with("documented as integer"), "{}", untyped[1].1);
    let report = stats.report();
    assert!(
        report.starts_with("times: 10 field(s) typed as times (date-time 3, yyyyMMddHHmmss 3, yyyy-MM-dd HH:mm:ss 1, date 1, yyyyMMdd 1, HH:mm 1); 2 field(s) look like times"),
        "{report}"
    );
    assert!(report.contains("\n  openapi/v3/demo/settlements.md:28 notify_time: documented as integer"), "{report}");
}
