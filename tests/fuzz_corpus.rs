//! The fuzz targets' corpus (`fuzz/corpus/<target>/`), replayed on stable through the same functions
//! the targets call (`fuzz/fuzz_targets/`), so that CI checks every input the fuzzer kept, crashes
//! found and fixed included, without nightly or libFuzzer. Needs the `fuzzing` feature
//! (`cargo test --all-features`).
#![cfg(feature = "fuzzing")]

use std::path::Path;

/// Every file of `fuzz/corpus/<target>/`, fed to `run`; the count, so that an empty corpus fails.
fn replay(target: &str, run: impl Fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
        assert!(outcome.is_ok(), "{target}: {} fails (reproduce: cargo +nightly fuzz run {target} {})", file.display(), file.display());
    }
    assert!(!files.is_empty(), "{target}: no corpus in {}", dir.display());
    files.len()
}

#[test]
fn the_page_reader_survives_its_corpus() {
    replay("page", |data| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = xtask::load::read_page("openapi/v3/fuzz.md", text);
        }
    });
}

#[test]
fn the_notification_opener_survives_its_corpus() {
    replay("notification", wechatpay::fuzzing::notification);
}

#[test]
fn the_response_verifier_survives_its_corpus() {
    replay("response", wechatpay::fuzzing::response);
}

#[test]
fn the_bill_parser_survives_its_corpus() {
    replay("bill", wechatpay::fuzzing::bill);
}
