//! The README's Rust blocks are compiled code: each must appear, line for line (indentation aside),
//! in `examples/readme.rs`, which `cargo test` builds.

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect()
}

#[test]
fn every_rust_block_of_the_readme_is_compiled_in_the_readme_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/readme.rs")).unwrap();
    let example = lines(&example);
    let blocks: Vec<&str> =
        readme.split("```rust\n").skip(1).map(|rest| rest.split("```").next().unwrap_or_default()).collect();
    assert!(blocks.len() >= 2, "the README shows a request and a notification handler");
    for block in blocks {
        let block = lines(block);
        assert!(
            example.windows(block.len()).any(|window| window == block.as_slice()),
            "this README block is not in examples/readme.rs (copy it there so that it is compiled):\n{}",
            block.join("\n")
        );
    }
}
