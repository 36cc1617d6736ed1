//! One operation's module: its `Request` (path, query, header and body fields side by side), the
//! builder, the `Operation` impl the transport sends, paging, the registry entry, and the types
//! it uses (its own, and shared ones re-exported under its names).

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::builders::{builder, Member};
use super::{
    builder_requires, doc, field_doc, from_json, ident, param, path_tokens, time_format, to_json, types, value_type,
    JsonMember, Place, Scope,
};
use crate::fields::{Owner, Part};
use crate::ir::{Encryption, Field, Filled, Method, Operation, Protocol, Response, Type};
use crate::typespace::{TypeDef, TypeKind, TypeSpace};

/// The module `pub mod get { … }` of one operation; `local` are the types defined in it.
pub fn operation(op: &Operation, local: &[&TypeDef<'_>], space: &TypeSpace<'_>) -> TokenStream {
    let method = ident(op.method.as_str());
    let module = space.names().module(op).join("::");
    let scope = Scope { module: &module, local: true, space };
    let members = members(op);
    let v2 = op.protocol == Protocol::V2;
    let has_json = op.request.json.is_some() || (v2 && (op.request.xml.is_some() || op.request.multipart.is_some()));
    let fields = members.iter().map(|member| {
        let field = member.field;
        let field_ident = scope.ident(field);
        let ty = if member.multipart && field.ty == Type::Object && field.children.is_empty() {
            quote! { crate::runtime::File }
        } else if member.multipart {
            value_type_plain(field, scope)
        } else {
            value_type(field, member.place, false, scope)
        };
        let doc = field_doc(field, member.place);
        if member.required {
            quote! { #doc pub #field_ident: #ty }
        } else {
            quote! { #doc pub #field_ident: Option<#ty> }
        }
    });
    let base = op.request.base_uri.as_ref().map(|b| b.default.clone().unwrap_or_default());
    let base_member = base.as_ref().map(|url| {
        let text = if url.is_empty() {
            "Sends to this host instead of the client's.".to_owned()
        } else {
            format!("Sends to this host instead of the one the documentation names (`{url}`).")
        };
        let doc = doc(&text);
        quote! { #doc pub base_uri: Option<String>, }
    });
    // The request reads its JSON body's fields by their names and the other parts' as
    // `path.…`, `query.…`, `headers.…`, `body.…` (what `registry`'s `request_from_json` makes of
    // the documentation's layout), so a name used in two parts stays two fields; it writes only
    // its JSON body.
    let request_ident = format_ident!("Request");
    let mut read: Vec<JsonMember> = members
        .iter()
        .map(|m| JsonMember {
            ident: scope.ident(m.field),
            key: if matches!(m.part, "json" | "xml") {
                m.field.name.clone()
            } else {
                format!("{}.{}", m.part, m.field.name)
            },
            required: m.required,
            format: time_format(m.field),
            one_of: m.field.one_of.clone(),
        })
        .collect();
    if base.is_some() {
        read.push(JsonMember {
            ident: format_ident!("base_uri"),
            key: "base_uri".into(),
            required: false,
            format: None,
            one_of: None,
        });
    }
    let from = from_json(&request_ident, &read, &TokenStream::new());
    let to = has_json.then(|| {
        // APIv2 writes its XML body's members (or its form's text fields) the same way.
        let body: Vec<JsonMember> = members
            .iter()
            .filter(|m| matches!(m.part, "json" | "xml") || (v2 && m.part == "body" && !is_file(m.field)))
            .map(|m| JsonMember {
                ident: scope.ident(m.field),
                key: m.field.name.clone(),
                required: m.required,
                format: time_format(m.field),
                one_of: m.field.one_of.clone(),
            })
            .collect();
        to_json(&request_ident, &body, &TokenStream::new())
    });
    let request_builder = builder(&format_ident!("Request"), &members, base.as_deref(), &TokenStream::new(), scope);
    let operation_impl = operation_impl(op, &members, scope);
    let paged = paged(op, &members, scope);
    let info = info(op, &module);
    let (response, reexports) = uses(op, space);
    let local_types = local.iter().map(|def| types::type_def(def, scope));
    let title = format!(" {}", op.title);
    let text = operation_doc(op);
    let docs = doc(&text);
    quote! {
        #[doc = #title]
        #[doc = ""]
        #docs
        pub mod #method {
            #(#reexports)*

            /// The request: path, query, header and body fields side by side.
            #[derive(Clone, Debug, PartialEq)]
            #[non_exhaustive]
            pub struct Request {
                #(#fields,)*
                #base_member
            }

            #from
            #to
            #request_builder
            #operation_impl
            #paged
            #response
            #info
            #(#local_types)*
        }
    }
}

/// The multipart `meta` part: the structure itself (sent as JSON text), or a plain value.
fn value_type_plain(field: &Field, scope: Scope<'_>) -> TokenStream {
    if let Some(ty) = scope.structure(field) {
        scope.name(ty, "")
    } else {
        value_type(field, Place::Request, false, scope)
    }
}

/// The URL of the operation's page on wechatpay.im.
pub fn page_url(file: &str) -> String {
    let page = file.trim_end_matches(".md");
    let page = page.strip_suffix("index").unwrap_or(page);
    format!("https://wechatpay.im/{page}")
}

fn operation_doc(op: &Operation) -> String {
    let mut text = String::new();
    if !op.description.is_empty() {
        text = format!("{}\n\n", op.description);
    }
    text += &format!("`{} {}`: [wechatpay.im]({})", op.method.as_str().to_uppercase(), op.path, page_url(&op.file));
    for url in &op.docs {
        text += &format!(", [official documentation]({url})");
    }
    text
}

/// The file part of a multipart body: an object without members.
fn is_file(field: &Field) -> bool {
    field.ty == Type::Object && field.children.is_empty()
}

/// The request's members in wire order: path, query, headers, JSON body, multipart body, XML
/// body. APIv2's `sign` and `nonce_str` are the transport's, not members.
fn members(op: &Operation) -> Vec<Member<'_>> {
    let v2 = op.protocol == Protocol::V2;
    let mut members: Vec<Member<'_>> = Vec::new();
    for part in Part::REQUEST {
        let signature = |field: &&Field| {
            field.filled == Some(Filled::Signature) && matches!(part, Part::Query | Part::Multipart | Part::Xml)
        };
        for field in part.of_request(&op.request).iter().filter(|field| !signature(field)) {
            let required = match part {
                // A path parameter is part of the URL, whatever its row says.
                Part::Path => true,
                // APIv2 forms are text fields and a file, each a member of its own; an APIv3
                // upload's file and `meta` are as documented.
                Part::Multipart if !v2 => field.required,
                _ => builder_requires(field),
            };
            members.push(Member {
                field,
                place: if part.structured() { Place::Request } else { Place::Param },
                required,
                path: part == Part::Path,
                multipart: part == Part::Multipart,
                part: part.name(),
            });
        }
    }
    members
}

/// The response type (defined here, re-exported, or a unit/stream alias) and the `pub use` of
/// every shared type the operation uses, under the operation's own names.
fn uses(op: &Operation, space: &TypeSpace<'_>) -> (TokenStream, Vec<TokenStream>) {
    let own = space.names().module(op).join("::");
    let reexports = shared(Owner::Operation(op), &own, space);
    let response = match &op.response {
        Response::Empty => quote! {
            /// The response: an empty body.
            pub type Response = ();
        },
        Response::Stream => quote! {
            /// The response: a byte stream (not signed).
            pub type Response = crate::runtime::ByteStream;
        },
        Response::Redirect => quote! {
            /// Nothing comes back to the merchant's server: the user's browser opens the signed URL.
            pub type Response = ();
        },
        Response::Json { .. } => match space.top(Owner::Operation(op)).map(|id| &space.def(id).path) {
            Some(path) if !defined_in(path, &own) => {
                let path = path_tokens(path);
                quote! { pub use #path as Response; }
            }
            _ => TokenStream::new(),
        },
    };
    (response, reexports_tokens(reexports))
}

pub fn defined_in(path: &str, module: &str) -> bool {
    path.rsplit_once("::").is_some_and(|(m, _)| m == module)
}

/// The shared types (defined outside `own`) an operation's or notification's fields have: local
/// name → path; in request bodies, the builders of structures too.
pub fn shared(owner: Owner<'_>, own: &str, space: &TypeSpace<'_>) -> BTreeMap<String, String> {
    let mut shared = BTreeMap::new();
    for at in owner.fields() {
        let Some(ty) = space.type_of(at.field) else { continue };
        let def = space.def(ty.id);
        if defined_in(&def.path, own) {
            continue;
        }
        shared.insert(ty.local.clone(), def.path.clone());
        if matches!(at.part, Part::Json | Part::Multipart | Part::Xml) && def.kind() == TypeKind::Struct {
            shared.insert(format!("{}Builder", ty.local), format!("{}Builder", def.path));
        }
    }
    shared
}

pub fn reexports_tokens(reexports: BTreeMap<String, String>) -> Vec<TokenStream> {
    reexports
        .into_iter()
        .map(|(name, path)| {
            let last = path.rsplit("::").next().unwrap_or_default().to_owned();
            let tokens = path_tokens(&path);
            if last == name {
                quote! { pub use #tokens; }
            } else {
                let alias = ident(&name);
                quote! { pub use #tokens as #alias; }
            }
        })
        .collect()
}

fn operation_impl(op: &Operation, members: &[Member<'_>], scope: Scope<'_>) -> TokenStream {
    let method = match op.method {
        Method::Get => quote! { Get },
        Method::Post => quote! { Post },
        Method::Put => quote! { Put },
        Method::Patch => quote! { Patch },
        Method::Delete => quote! { Delete },
    };
    let path = &op.path;
    let kind = response_kind(&op.response);
    let encrypted = encrypted(op);
    let default_base = match op.request.base_uri.as_ref().and_then(|b| b.default.as_ref()) {
        Some(url) => quote! { Some(#url) },
        None => quote! { None },
    };
    let path_fn = {
        let mut format = String::new();
        let mut args = Vec::new();
        for segment in op.path.split('/').skip(1) {
            format.push('/');
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => {
                    format.push_str("{}");
                    if let Some(member) = members.iter().find(|m| m.path && m.field.name == param) {
                        let field_ident = scope.ident(member.field);
                        let text = super::param(member.field, quote! { &self.#field_ident });
                        args.push(quote! { crate::runtime::encode_path_segment(&#text) });
                    }
                }
                None => format.push_str(segment),
            }
        }
        if args.is_empty() {
            quote! { Self::PATH.to_owned() }
        } else {
            quote! { format!(#format, #(#args),*) }
        }
    };
    // `out` seals sensitive values; a function that writes none names it `_out`.
    let out = |used: bool| {
        if used {
            quote! { out }
        } else {
            quote! { _out }
        }
    };
    let path_out = out(op.path.contains('{'));
    let query_out = out(!op.request.query.is_empty());
    let headers_out = out(!op.request.headers.is_empty());
    let params = |fields: &[Field]| -> TokenStream {
        let pairs: Vec<TokenStream> = fields
            .iter()
            .filter(|field| field.filled != Some(Filled::Signature))
            .map(|field| {
                let member =
                    members.iter().find(|m| std::ptr::eq(m.field, field)).expect("every parameter is a member");
                let field_ident = scope.ident(field);
                let wire = &field.name;
                if member.required {
                    let text = param(field, quote! { &self.#field_ident });
                    quote! { (#wire, Some(#text)) }
                } else {
                    let text = param(field, quote! { value });
                    quote! { (#wire, self.#field_ident.as_ref().map(|value| #text)) }
                }
            })
            .collect();
        if pairs.is_empty() {
            quote! { Vec::new() }
        } else {
            quote! {
                [#(#pairs),*].into_iter().filter_map(|(name, value)| Some((name, value?))).collect()
            }
        }
    };
    let query = params(&op.request.query);
    let headers = params(&op.request.headers);
    let v2 = op.protocol == Protocol::V2;
    let v2_form =
        v2.then_some(op.request.multipart.as_ref()).flatten().and_then(|form| form.fields.iter().find(|f| is_file(f)));
    let (body, writes_body) = if v2 && op.request.xml.is_some() {
        (
            quote! { Ok(crate::runtime::Body::Xml(crate::runtime::xml::members_of(crate::runtime::ToJson::to_json(self, out)))) },
            true,
        )
    } else if let Some(file) = v2_form {
        let file_ident = scope.ident(file);
        let name = &file.name;
        let file_value = if file.required {
            quote! { self.#file_ident.clone() }
        } else {
            quote! { self.#file_ident.clone().unwrap_or_default() }
        };
        let body = quote! {
            Ok(crate::runtime::Body::Form(crate::runtime::Form {
                fields: crate::runtime::xml::members_of(crate::runtime::ToJson::to_json(self, out)),
                file_part: #name,
                file: #file_value,
            }))
        };
        (body, true)
    } else if op.request.json.is_some() {
        (
            quote! { serde_json::to_vec(&crate::runtime::ToJson::to_json(self, out)).map(crate::runtime::Body::Json) },
            true,
        )
    } else if let Some(multipart) = &op.request.multipart {
        // The file part is the body's untyped object (`file`, `submission_file`, …).
        let file = multipart.fields.iter().find(|f| f.ty == Type::Object && f.children.is_empty());
        let meta = multipart.fields.iter().find(|f| f.name == "meta");
        let required = |field: &Field| members.iter().any(|m| std::ptr::eq(m.field, field) && m.required);
        match (file, meta) {
            (Some(file), Some(meta)) => {
                let (file_ident, meta_ident) = (scope.ident(file), scope.ident(meta));
                let name = &file.name;
                let file_value = if required(file) {
                    quote! { self.#file_ident.clone() }
                } else {
                    quote! { self.#file_ident.clone().unwrap_or_default() }
                };
                let meta_value = if required(meta) {
                    quote! { crate::runtime::ToJson::to_json(&self.#meta_ident, out) }
                } else {
                    quote! { self.#meta_ident.as_ref().map(|meta| crate::runtime::ToJson::to_json(meta, out)).unwrap_or_default() }
                };
                let body = quote! {
                    Ok(crate::runtime::Body::Multipart(crate::runtime::Multipart {
                        meta: serde_json::to_string(&#meta_value)?,
                        file_part: #name,
                        file: #file_value,
                    }))
                };
                (body, true)
            }
            _ => (quote! { Ok(crate::runtime::Body::Empty) }, false),
        }
    } else {
        (quote! { Ok(crate::runtime::Body::Empty) }, false)
    };
    let body_out = out(writes_body);
    let base_uri_fn = op.request.base_uri.as_ref().map(|_| {
        quote! {
            fn base_uri(&self) -> Option<&str> {
                self.base_uri.as_deref().or(Self::DEFAULT_BASE_URI)
            }
        }
    });
    let fills: Vec<TokenStream> = members
        .iter()
        .filter(|m| m.field.filled == Some(Filled::Mchid))
        .map(|m| {
            let field_ident = scope.ident(m.field);
            quote! {
                if self.#field_ident.is_none() {
                    self.#field_ident = Some(merchant.mchid.to_owned());
                }
            }
        })
        .collect();
    // The merchant is read only by the fills of `mchid`.
    let merchant = if fills.is_empty() {
        quote! { _merchant }
    } else {
        quote! { merchant }
    };
    let fills: Vec<TokenStream> = fills.into_iter().chain(file_fills(op, members, scope)).collect();
    let fill_fn = (!fills.is_empty()).then(|| {
        quote! {
            fn fill(&mut self, #merchant: &crate::runtime::Merchant<'_>) {
                #(#fills)*
            }
        }
    });
    let v2_items = v2.then(|| {
        let security = op.request.security;
        let nonceless = op.request.nonceless;
        let redirect = op.is_url_builder();
        let fragment = match op.request.fragment.as_ref().and_then(|f| f.value.as_ref()) {
            Some(value) => quote! { Some(#value) },
            None => quote! { None },
        };
        let sign_type = members.iter().find(|m| m.field.name == "sign_type" && m.part != "headers").map(|m| {
            let field_ident = scope.ident(m.field);
            // A string or an enumeration: both have `as_str`.
            if m.required {
                quote! { fn sign_type(&self) -> Option<&str> { Some(self.#field_ident.as_str()) } }
            } else {
                quote! { fn sign_type(&self) -> Option<&str> { self.#field_ident.as_ref().map(|value| value.as_str()) } }
            }
        });
        let signed = matches!(&op.response, Response::Json { fields } if fields.iter().any(|f| f.name == "sign"));
        let r = &op.request;
        let sign_row = r.query.iter().chain(r.multipart.iter().flat_map(|p| &p.fields)).any(|f| f.filled == Some(Filled::Signature));
        let signed_request = r.xml.is_some() || sign_row;
        quote! {
            const PROTOCOL: crate::runtime::Protocol = crate::runtime::Protocol::V2;
            const SIGNED_ANSWER: bool = #signed;
            const SIGNED_REQUEST: bool = #signed_request;
            const CLIENT_CERTIFICATE: bool = #security;
            const NONCELESS: bool = #nonceless;
            const REDIRECT: bool = #redirect;
            const FRAGMENT: Option<&'static str> = #fragment;
            #sign_type
        }
    });
    quote! {
        impl crate::runtime::Operation for Request {
            type Response = Response;
            const METHOD: crate::runtime::Method = crate::runtime::Method::#method;
            const PATH: &'static str = #path;
            const RESPONSE: crate::runtime::ResponseKind = crate::runtime::ResponseKind::#kind;
            const ENCRYPTED: &'static [&'static str] = &[#(#encrypted),*];
            const DEFAULT_BASE_URI: Option<&'static str> = #default_base;

            fn path(&self, #path_out: &mut crate::runtime::Writing<'_>) -> String {
                #path_fn
            }

            fn query(&self, #query_out: &mut crate::runtime::Writing<'_>) -> Vec<(&'static str, String)> {
                #query
            }

            fn headers(&self, #headers_out: &mut crate::runtime::Writing<'_>) -> Vec<(&'static str, String)> {
                #headers
            }

            fn body(&self, #body_out: &mut crate::runtime::Writing<'_>) -> Result<crate::runtime::Body, serde_json::Error> {
                #body
            }

            #base_uri_fn
            #fill_fn
            #v2_items
        }
    }
}

/// What the client computes from an upload's file into its `meta` (see `lower::mark_file_members`):
/// each member the caller left unset, once the file is there.
fn file_fills(op: &Operation, members: &[Member<'_>], scope: Scope<'_>) -> Vec<TokenStream> {
    let Some(body) = &op.request.multipart else { return Vec::new() };
    let file = body.fields.iter().find(|f| f.ty == Type::Object && f.children.is_empty());
    let meta = body.fields.iter().find(|f| f.name == "meta");
    let (Some(file), Some(meta)) = (file, meta) else { return Vec::new() };
    let algorithm = meta.children.iter().find(|f| f.filled == Some(Filled::DigestAlgorithm));
    let sets: Vec<TokenStream> = meta
        .children
        .iter()
        .filter_map(|member| {
            let value = match member.filled? {
                Filled::FileDigest => {
                    let name = match algorithm {
                        Some(algorithm) if member.name == "digest" => algorithm.enum_values[0].clone(),
                        _ => "SHA256".to_owned(),
                    };
                    quote! { crate::runtime::file_digest(#name, &file.bytes) }
                }
                Filled::DigestAlgorithm => {
                    let value = &member.enum_values[0];
                    quote! { ::core::convert::From::from(#value) }
                }
                Filled::FileName => quote! { file.filename.clone() },
                _ => return None,
            };
            let ident = scope.ident(member);
            Some(quote! {
                if meta.#ident.is_none() {
                    meta.#ident = Some(#value);
                }
            })
        })
        .collect();
    if sets.is_empty() {
        return Vec::new();
    }
    let required = |field: &Field| members.iter().any(|m| std::ptr::eq(m.field, field) && m.required);
    let (file_ident, meta_ident) = (scope.ident(file), scope.ident(meta));
    let file = if required(file) {
        quote! { Some(&self.#file_ident) }
    } else {
        quote! { self.#file_ident.as_ref() }
    };
    let meta = if required(meta) {
        quote! { Some(&mut self.#meta_ident) }
    } else {
        quote! { self.#meta_ident.as_mut() }
    };
    vec![quote! {
        if let (Some(file), Some(meta)) = (#file, #meta) {
            #(#sets)*
        }
    }]
}

fn response_kind(response: &Response) -> TokenStream {
    match response {
        Response::Json { .. } => quote! { Json },
        Response::Empty | Response::Redirect => quote! { Empty },
        Response::Stream => quote! { Stream },
    }
}

fn encrypted(op: &Operation) -> Vec<String> {
    let mut encrypted = Vec::new();
    for (part, params) in [("query", &op.request.query), ("headers", &op.request.headers)] {
        let sealed = params.iter().filter(|field| field.encrypted == Some(Encryption::RsaPubkey));
        encrypted.extend(sealed.map(|field| format!("{part}.{}", field.name)));
    }
    for body in [&op.request.json, &op.request.xml].into_iter().flatten() {
        encrypted_paths(&body.fields, "", &mut encrypted);
    }
    if let Some(body) = &op.request.multipart {
        // The `meta` part is signed JSON too; its members are addressed inside it.
        if let Some(meta) = body.fields.iter().find(|f| f.name == "meta") {
            encrypted_paths(&meta.children, "", &mut encrypted);
        }
    }
    encrypted
}

/// JSON paths of request fields sent encrypted, e.g. `receivers[].name`.
pub fn encrypted_paths(fields: &[Field], at: &str, out: &mut Vec<String>) {
    for field in fields {
        let path = if at.is_empty() { field.name.clone() } else { format!("{at}.{}", field.name) };
        if field.encrypted == Some(Encryption::RsaPubkey) {
            out.push(if field.ty == Type::StringArray { format!("{path}[]") } else { path.clone() });
        }
        if field.ty.has_members() {
            let inner = if field.ty == Type::ObjectArray { format!("{path}[]") } else { path };
            encrypted_paths(&field.children, &inner, out);
        }
    }
}

/// `Paged` for an operation with `offset` and `limit` query parameters whose response is a page
/// (holds a `data` list).
fn paged(op: &Operation, members: &[Member<'_>], scope: Scope<'_>) -> Option<TokenStream> {
    let Response::Json { fields } = &op.response else {
        return None;
    };
    fields.iter().find(|f| f.name == "data" && f.ty.is_array())?;
    let find = |name: &str| {
        members.iter().find(|m| {
            m.place == Place::Param && m.field.name == name && matches!(m.field.ty, Type::Integer | Type::Number)
        })
    };
    let (offset, limit) = (find("offset")?, find("limit")?);
    let read = |member: &Member<'_>| {
        let field_ident = scope.ident(member.field);
        match (member.field.ty, member.required) {
            (Type::Integer, true) => quote! { Some(self.#field_ident) },
            (Type::Integer, false) => quote! { self.#field_ident },
            (_, true) => quote! { self.#field_ident.as_i64() },
            (_, false) => quote! { self.#field_ident.as_ref().and_then(crate::runtime::Number::as_i64) },
        }
    };
    let offset_ident = scope.ident(offset.field);
    let value = match offset.field.ty {
        Type::Integer => quote! { offset },
        _ => quote! { crate::runtime::Number::from(offset) },
    };
    let set = if offset.required {
        quote! { self.#offset_ident = #value; }
    } else {
        quote! { self.#offset_ident = Some(#value); }
    };
    let (get_offset, get_limit) = (read(offset), read(limit));
    Some(quote! {
        impl crate::runtime::Paged for Request {
            fn offset(&self) -> Option<i64> {
                #get_offset
            }
            fn set_offset(&mut self, offset: i64) {
                #set
            }
            fn limit(&self) -> Option<i64> {
                #get_limit
            }
        }
    })
}

/// The operation's entry in the registry; `module` is its path (`v3::pay::…::post`).
fn info(op: &Operation, module: &str) -> TokenStream {
    let method = op.method.as_str().to_uppercase();
    let path = &op.path;
    let family = &op.family;
    let title = &op.title;
    let page = page_url(&op.file);
    let official = &op.docs;
    let kind = response_kind(&op.response);
    let encrypted = encrypted(op);
    let v2 = (op.protocol == Protocol::V2).then(|| {
        let (security, redirect) = (op.request.security, op.is_url_builder());
        quote! { .apiv2(#security, #redirect) }
    });
    quote! {
        /// This operation in the [registry](crate::registry).
        pub const INFO: crate::runtime::OperationInfo = crate::runtime::OperationInfo::new(
            #method,
            #path,
            #family,
            #title,
            #module,
            #page,
            &[#(#official),*],
            crate::runtime::ResponseKind::#kind,
            &[#(#encrypted),*],
            <Response as crate::runtime::Decode>::decode_value,
            crate::runtime::erased::<Request>,
        )#v2;
    }
}
