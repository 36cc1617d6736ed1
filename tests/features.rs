//! Users depend on `wechatpay` alone, so every family feature of the generated crate must be one
//! of its features too, forwarded one to one.

use std::path::Path;

fn features(manifest: &Path) -> toml::Table {
    let text = std::fs::read_to_string(manifest).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    manifest["features"].as_table().unwrap().clone()
}

#[test]
fn every_generated_feature_is_forwarded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = features(&root.join("Cargo.toml"));
    let generated = features(&root.join("generated/Cargo.toml"));
    assert!(generated.len() > 3, "the generated crate has family features");
    for name in generated.keys().filter(|name| *name != "default") {
        let forwarded = ours.get(name).and_then(|value| value.as_array()).map(|list| {
            list.iter().filter_map(|item| item.as_str()).collect::<Vec<_>>()
        });
        assert_eq!(
            forwarded,
            Some(vec![format!("wechatpay-generated/{name}").as_str()]),
            "feature `{name}` of generated/Cargo.toml is not forwarded by Cargo.toml"
        );
    }
}
