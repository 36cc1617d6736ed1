//! The documentation page reader (`xtask::load::read_page`: pulldown-cmark, tables, lowering to
//! the IR): any text gives pages or errors, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xtask::load::read_page("openapi/v3/fuzz.md", text);
    }
});
