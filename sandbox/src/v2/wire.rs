//! APIv2 on the wire, written here independently of the SDK (the sandbox is the oracle a client
//! is tested against): flat XML read with quick-xml (no DOCTYPE, no entities), CDATA written;
//! MD5 and HMAC-SHA256 signatures; AES-256-ECB for `req_info`. RustCrypto throughout.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use quick_xml::events::Event;
use quick_xml::Reader;
use sha2::Sha256;

/// The members of `<xml>…</xml>` (text only, nested elements as their inner text), in order; `None`
/// for anything else, a DOCTYPE or an entity included.
pub fn parse(body: &[u8]) -> Option<Vec<(String, String)>> {
    let mut reader = Reader::from_reader(body);
    let mut members = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<(String, String)> = None;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).ok()? {
            Event::Start(start) => {
                depth += 1;
                if depth == 2 {
                    current = Some((String::from_utf8(start.name().as_ref().to_vec()).ok()?, String::new()));
                }
            }
            Event::Empty(start) if depth == 1 => {
                members.push((String::from_utf8(start.name().as_ref().to_vec()).ok()?, String::new()))
            }
            Event::Text(text) => {
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(&text.decode().ok()?);
                }
            }
            Event::CData(data) => {
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(std::str::from_utf8(&data).ok()?);
                }
            }
            Event::GeneralRef(reference) => {
                let text = match reference.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => match &*reference.decode().ok()? {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        _ => return None,
                    },
                };
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(&text);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    members.push(current.take()?);
                }
                depth = depth.checked_sub(1)?;
            }
            Event::DocType(_) | Event::PI(_) => return None,
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    (depth == 0).then_some(members)
}

/// `<xml>…</xml>` of a JSON object: text members in CDATA, an object as nested elements, a list
/// of objects as repeated elements (a red packet's receipts, a bank's merchants).
pub fn write_value(members: &[(String, serde_json::Value)]) -> Vec<u8> {
    fn element(out: &mut String, name: &str, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Object(members) => {
                out.push_str(&format!("<{name}>"));
                for (key, value) in members {
                    element(out, key, value);
                }
                out.push_str(&format!("</{name}>"));
            }
            Value::Array(items) => items.iter().for_each(|item| element(out, name, item)),
            Value::String(text) => {
                out.push_str(&format!("<{name}><![CDATA[{}]]></{name}>", text.replace("]]>", "]]]]><![CDATA[>")))
            }
            other => out.push_str(&format!("<{name}>{other}</{name}>")),
        }
    }
    let mut out = String::from("<xml>");
    for (name, value) in members {
        element(&mut out, name, value);
    }
    out.push_str("</xml>");
    out.into_bytes()
}

/// `<xml><k><![CDATA[v]]></k>…</xml>`.
pub fn write(members: &[(String, String)]) -> Vec<u8> {
    let mut out = String::from("<xml>");
    for (name, value) in members {
        out += &format!("<{name}><![CDATA[{}]]></{name}>", value.replace("]]>", "]]]]><![CDATA[>"));
    }
    out += "</xml>";
    out.into_bytes()
}

/// The APIv2 `sign` of `members` (`sign` and empty ones left out, sorted, `&key=…`).
pub fn sign(members: &[(String, String)], key: &str, hmac_sha256: bool) -> String {
    let mut sorted: Vec<&(String, String)> = members.iter().filter(|(k, v)| k != "sign" && !v.is_empty()).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text: String = sorted.iter().map(|(k, v)| format!("{k}={v}&")).collect();
    text += &format!("key={key}");
    let digest = if hmac_sha256 {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()) else { return String::new() };
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        Md5::digest(text.as_bytes()).to_vec()
    };
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// Base64 of AES-256-ECB (PKCS#7) under the lower-case hex MD5 of the APIv2 key.
pub fn seal_req_info(apiv2_key: &str, plaintext: &[u8]) -> String {
    use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyInit};
    let key: String = Md5::digest(apiv2_key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    match ecb::Encryptor::<aes::Aes256>::new_from_slice(key.as_bytes()) {
        Ok(cipher) => BASE64.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(plaintext)),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_hostile_xml_is_refused() {
        let members = vec![("a".to_owned(), "x & <y>".to_owned()), ("b".to_owned(), String::new())];
        assert_eq!(parse(&write(&members)), Some(members));
        assert_eq!(parse(b"<!DOCTYPE x [<!ENTITY e \"z\">]><xml><a>&e;</a></xml>"), None);
        assert_eq!(parse(b"<xml><a>&e;</a></xml>"), None);
    }

    #[test]
    fn signatures_match_the_published_example() {
        let members: Vec<(String, String)> = [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .to_vec();
        assert_eq!(sign(&members, "192006250b4c09247ec02edce69f6a2d", false), "9A0A8659F005D6984697E2CA0A9CF3B7");
        assert_eq!(
            sign(&members, "192006250b4c09247ec02edce69f6a2d", true),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }
}
