//! An operation reduced to what the wire needs: method, target, headers and body, written with
//! its sensitive values sealed, and its path checked so that a parameter cannot change the
//! endpoint.

use http::header::{HeaderName, HeaderValue};
use wechatpay_generated::runtime::{Body, ErasedOperation, Method, ResponseKind, Writing};

use crate::error::Error;

/// Where a request goes.
pub(crate) enum Target {
    /// A path and query under the base URL (or the operation's own host).
    Relative { base: Option<String>, path_and_query: String },
    /// An absolute URL (a download address).
    Absolute(reqwest::Url),
}

/// An operation reduced to what the wire needs.
pub(crate) struct Prepared {
    pub method: Method,
    /// The path template, for logs and errors.
    pub template: &'static str,
    pub kind: ResponseKind,
    pub target: Target,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Body,
    /// APIv2: signed in its members (no `Authorization` header), an XML or form body.
    pub apiv2: bool,
    /// APIv2: sent with the merchant's API client certificate (mutual TLS).
    pub client_certificate: bool,
}

impl Prepared {
    /// Any operation, typed or built at run time (one non-generic path for all of them), its
    /// sensitive values sealed by `out`: check `out` before sending what this made.
    pub(crate) fn from_erased(operation: &dyn ErasedOperation, out: &mut Writing<'_>) -> Result<Self, Error> {
        let mut path_and_query = operation.path(out);
        if !path_and_query.starts_with('/') {
            path_and_query.insert(0, '/');
        }
        check_path_parameters(operation.template(), &path_and_query)?;
        let query = operation.query(out);
        if !query.is_empty() {
            path_and_query.push('?');
            path_and_query.push_str(&encode_query(&query));
        }
        let headers = operation
            .headers(out)
            .into_iter()
            .map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::InvalidRequest(format!("header name {name:?}")))?;
                let value = HeaderValue::from_str(&value)
                    .map_err(|_| Error::InvalidRequest(format!("the value of header {name} is not valid")))?;
                Ok((name, value))
            })
            .collect::<Result<_, Error>>()?;
        let body = operation.body(out).map_err(Error::Encode)?;
        Ok(Prepared {
            method: operation.method(),
            template: operation.template(),
            kind: operation.response_kind(),
            target: Target::Relative { base: operation.base_uri().map(str::to_owned), path_and_query },
            headers,
            body,
            apiv2: false,
            client_certificate: false,
        })
    }

    /// A `GET` of `target`, without body.
    pub(crate) fn get(template: &'static str, kind: ResponseKind, target: Target) -> Self {
        Prepared {
            method: Method::Get,
            template,
            kind,
            target,
            headers: Vec::new(),
            body: Body::Empty,
            apiv2: false,
            client_certificate: false,
        }
    }

    pub(crate) fn set_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidRequest(format!("the value of header {name} is not valid")))?;
        self.headers.retain(|(key, _)| *key != name);
        self.headers.push((name, value));
        Ok(())
    }
}

/// Refuses a filled-in path whose parameter segment (a `{name}` segment of `template`) is empty,
/// `.` or `..` (also percent-encoded): URL normalisation would send the request, correctly signed,
/// to another endpoint (`/v3/refund/domestic/refunds/..` is `/v3/refund/domestic/`).
fn check_path_parameters(template: &str, path: &str) -> Result<(), Error> {
    let path = path.split('?').next().unwrap_or(path);
    let template_segments: Vec<&str> = template.split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    if template_segments.len() == segments.len() {
        for (template_segment, segment) in template_segments.iter().zip(&segments) {
            let Some(name) = template_segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) else {
                continue;
            };
            let problem = if segment.is_empty() {
                "is empty"
            } else if is_dot_segment(segment) {
                "is `.` or `..`"
            } else {
                continue;
            };
            return Err(Error::PathParameter { name: name.to_owned(), problem });
        }
    }
    // Whatever the template (an operation written by hand may fill it differently), no dot segment.
    if let Some(segment) = segments.iter().find(|segment| is_dot_segment(segment)) {
        return Err(Error::InvalidRequest(format!("the path {path:?} has a dot segment {segment:?}")));
    }
    Ok(())
}

/// `.` or `..`, with each dot possibly written `%2e` (URL parsers read those as dots too).
pub(crate) fn is_dot_segment(segment: &str) -> bool {
    let dots = segment.to_ascii_lowercase().replace("%2e", ".");
    dots == "." || dots == ".."
}

/// `name=value&…` in the given order, every byte but RFC 3986 unreserved ones percent-encoded
/// (a space as `%20`, which every form decoder reads too).
pub(crate) fn encode_query(pairs: &[(&str, String)]) -> String {
    let mut query = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            query.push('&');
        }
        percent_encode(name, &mut query);
        query.push('=');
        percent_encode(value, &mut query);
    }
    query
}

fn percent_encode(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_in_order() {
        let query = encode_query(&[("b", "x y&z".to_owned()), ("a", "中".to_owned()), ("c", "A-Z_.~".to_owned())]);
        assert_eq!(query, "b=x%20y%26z&a=%E4%B8%AD&c=A-Z_.~");
    }

    #[test]
    fn parameters_that_would_change_the_endpoint_are_named() {
        let template = "/v3/refund/domestic/refunds/{out_refund_no}";
        for (value, problem) in
            [("", "is empty"), (".", "is `.` or `..`"), ("..", "is `.` or `..`"), ("%2E%2e", "is `.` or `..`")]
        {
            let error = check_path_parameters(template, &format!("/v3/refund/domestic/refunds/{value}")).unwrap_err();
            assert!(
                matches!(&error, Error::PathParameter { name, problem: found } if name == "out_refund_no" && *found == problem),
                "{value:?}: {error:?}"
            );
        }
        assert!(check_path_parameters(template, "/v3/refund/domestic/refunds/...").is_ok(), "three dots are a name");
        assert!(check_path_parameters(template, "/v3/refund/domestic/refunds/a.b").is_ok());
        assert!(matches!(check_path_parameters("/v3/x", "/v3/x/../y"), Err(Error::InvalidRequest(_))));
    }
}
