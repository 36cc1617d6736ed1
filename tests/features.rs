//! Users depend on `wechatpay-sdk` alone, so every family feature of the generated crate must be
//! one of its features too, forwarded one to one; except the two the transport always enables
//! (`certificates`, for `/v3/certificates`, and `notifications`), which are no features of its own.

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
    for name in generated.keys().filter(|name| !["default", "certificates", "notifications"].contains(&name.as_str())) {
        let forwarded = ours
            .get(name)
            .and_then(|value| value.as_array())
            .map(|list| list.iter().filter_map(|item| item.as_str()).collect::<Vec<_>>());
        assert_eq!(
            forwarded,
            Some(vec![format!("wechatpay-generated/{name}").as_str()]),
            "feature `{name}` of generated/Cargo.toml is not forwarded by Cargo.toml"
        );
    }
}

#[test]
fn features_that_would_do_nothing_do_not_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = features(&root.join("Cargo.toml"));
    for always in ["certificates", "notifications", "fuzzing"] {
        assert!(!ours.contains_key(always), "`{always}` is always compiled (or never, by a feature): not a feature");
    }
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml")).unwrap().parse().unwrap();
    let generated = &manifest["dependencies"]["wechatpay-generated"]["features"];
    assert_eq!(generated.as_array().unwrap().len(), 2, "the transport enables certificates and notifications");
}
