//! `wechatpay call METHOD PATH`: any operation, through the registry.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::config::Settings;
use crate::failure::Failure;

pub async fn run(
    settings: Settings,
    method: &str,
    path: &str,
    json: Option<String>,
    json_file: Option<PathBuf>,
    dry_run: bool,
) -> Result<(), Failure> {
    let method = method.to_ascii_uppercase();
    let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
    let info = wechatpay::registry::find(&method, path_only)
        .ok_or_else(|| Failure::usage(format!("{method} {path_only} is no documented operation")))?;
    let body = match (json, json_file) {
        (Some(text), _) => Some(text),
        (None, Some(file)) => Some(
            std::fs::read_to_string(&file).map_err(|error| Failure::usage(format!("{}: {error}", file.display())))?,
        ),
        (None, None) => None,
    };
    let body = body
        .map(|text| {
            serde_json::from_str::<Value>(&text)
                .map_err(|error| Failure::usage(format!("the body is not JSON: {error}")))
        })
        .transpose()?;
    // The registry's layout: path values at the top, then `query` and `json`. Query values are
    // text; when the operation wants a number or a boolean, they are read as such.
    let fields = |typed: bool| {
        let mut fields = path_values(info.path, path_only);
        let query: Map<String, Value> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let value = decode(value);
                let value = match serde_json::from_str::<Value>(&value) {
                    Ok(parsed @ (Value::Number(_) | Value::Bool(_))) if typed => parsed,
                    _ => Value::String(value),
                };
                (decode(name), value)
            })
            .collect();
        if !query.is_empty() {
            fields.insert("query".into(), Value::Object(query));
        }
        if let Some(body) = &body {
            fields.insert("json".into(), body.clone());
        }
        Value::Object(fields)
    };
    let request = match info.request_from_json(fields(false)) {
        Ok(request) => request,
        Err(first) => info
            .request_from_json(fields(true))
            .map_err(|_| Failure::usage(format!("the request does not fit {method} {}: {first}", info.path)))?,
    };
    let client = settings.client()?;
    if dry_run {
        let request = client.prepare_erased(request).await?;
        println!("{} {}", request.method(), request.url());
        for (name, value) in request.headers() {
            println!("{name}: {}", value.to_str().unwrap_or("(binary)"));
        }
        if let Some(bytes) = request.body().and_then(|body| body.as_bytes()) {
            println!();
            println!("{}", String::from_utf8_lossy(bytes));
        }
        return Ok(());
    }
    let reply = client.send_erased(request).await?;
    for deviation in reply.deviations() {
        eprintln!("deviation from the documentation: {deviation}");
    }
    let text = serde_json::to_string_pretty(&*reply).map_err(|error| Failure::failed(error.to_string()))?;
    println!("{text}");
    Ok(())
}

/// The values of a concrete path for the template's `{name}` segments.
fn path_values(template: &str, path: &str) -> Map<String, Value> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(name, value)| {
            let name = name.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), Value::String(decode(value))))
        })
        .collect()
}

/// `%XX` sequences to their bytes (UTF-8, lossy), as a path value or query is written.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}
