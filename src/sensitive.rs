//! Sensitive fields: request fields marked `data-encrypted=by-rsa-pubkey` travel as RSA-OAEP
//! (SHA-1) ciphertext made with a WeChat Pay key, and some responses return fields encrypted with
//! the merchant's own key.
//!
//! A field is named by a JSON path as [`Operation::ENCRYPTED`](crate::runtime::Operation::ENCRYPTED)
//! lists them: `payer.identity.name` walks objects, `receivers[].name` walks every item of an
//! array. Absent and `null` fields are skipped; a present field that is not a string is left
//! alone (the server will reject it, naming the field).

use serde_json::Value;

use crate::keys::{CryptoError, MerchantKey, PublicKey};

/// Whether `value` has a string at any of `paths`: whether a request needs an encryption key.
pub fn has_fields(value: &Value, paths: &[&str]) -> bool {
    let mut found = false;
    for path in paths {
        visit(value, &tokens(path), &mut |_| {
            found = true;
            Ok(())
        })
        .ok();
    }
    found
}

/// Replaces every string at `paths` by its Base64 RSA-OAEP ciphertext under `key`; returns how
/// many fields were encrypted.
pub fn encrypt_fields(value: &mut Value, paths: &[&str], key: &PublicKey) -> Result<usize, CryptoError> {
    transform(value, paths, |plaintext| key.encrypt(plaintext))
}

/// Replaces every string at `paths` by its plain text, decrypted with the merchant key (for
/// responses that carry fields encrypted with the merchant's public key); returns how many
/// fields were decrypted.
pub fn decrypt_fields(value: &mut Value, paths: &[&str], key: &MerchantKey) -> Result<usize, CryptoError> {
    transform(value, paths, |ciphertext| key.decrypt(ciphertext))
}

fn transform(
    value: &mut Value,
    paths: &[&str],
    mut change: impl FnMut(&str) -> Result<String, CryptoError>,
) -> Result<usize, CryptoError> {
    let mut count = 0;
    for path in paths {
        visit_mut(value, &tokens(path), &mut |field| {
            if let Value::String(text) = field {
                *text = change(text)?;
                count += 1;
            }
            Ok(())
        })?;
    }
    Ok(count)
}

enum Token<'a> {
    Field(&'a str),
    Items(&'a str),
}

fn tokens(path: &str) -> Vec<Token<'_>> {
    path.split('.')
        .filter(|token| !token.is_empty())
        .map(|token| match token.strip_suffix("[]") {
            Some(name) => Token::Items(name),
            None => Token::Field(token),
        })
        .collect()
}

fn visit(
    value: &Value,
    tokens: &[Token<'_>],
    found: &mut dyn FnMut(&str) -> Result<(), CryptoError>,
) -> Result<(), CryptoError> {
    let Some((token, rest)) = tokens.split_first() else {
        return match value {
            Value::String(text) => found(text),
            _ => Ok(()),
        };
    };
    match token {
        Token::Field(name) => match value.get(name) {
            Some(child) => visit(child, rest, found),
            None => Ok(()),
        },
        Token::Items(name) => {
            let items = value.get(name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            items.iter().try_for_each(|item| visit(item, rest, found))
        }
    }
}

fn visit_mut(
    value: &mut Value,
    tokens: &[Token<'_>],
    found: &mut dyn FnMut(&mut Value) -> Result<(), CryptoError>,
) -> Result<(), CryptoError> {
    let Some((token, rest)) = tokens.split_first() else {
        return found(value);
    };
    match token {
        Token::Field(name) => match value.get_mut(name) {
            Some(child) => visit_mut(child, rest, found),
            None => Ok(()),
        },
        Token::Items(name) => match value.get_mut(name).and_then(Value::as_array_mut) {
            Some(items) => items.iter_mut().try_for_each(|item| visit_mut(item, rest, found)),
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_walk_objects_and_arrays() {
        let value = json!({
            "payer": {"identity": {"name": "张三", "number": null}},
            "receivers": [{"name": "a"}, {"account": "x"}, {"name": "b"}],
            "count": 3
        });
        assert!(has_fields(&value, &["payer.identity.name"]));
        assert!(!has_fields(&value, &["payer.identity.number"]));
        assert!(has_fields(&value, &["receivers[].name"]));
        assert!(!has_fields(&value, &["missing[].name", "count.x", "count"]));
    }

    #[test]
    fn decryption_reverses_encryption_field_by_field() {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/keys/merchant_key.pem"
        ))
        .unwrap();
        let merchant = MerchantKey::from_pem(&pem).unwrap();
        let original = json!({"receivers": [{"name": "a"}, {"name": "b"}], "other": "kept"});
        let mut value = original.clone();
        let paths = ["receivers[].name"];
        assert_eq!(encrypt_fields(&mut value, &paths, &merchant.public_key()).unwrap(), 2);
        assert_ne!(value, original);
        assert_eq!(value["other"], "kept");
        assert_eq!(decrypt_fields(&mut value, &paths, &merchant).unwrap(), 2);
        assert_eq!(value, original);
    }
}
