//! The type space's structures and enumerations, with their JSON conversions and builders.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{builders, doc, field_doc, from_json, ident, time_format, to_json, value_type, JsonMember, Place, Scope};
use crate::ir::{Field, Type};
use crate::naming::enum_values;
use crate::typespace::{Shape, TypeDef};

/// The items of one type: the struct (with its schema and builder as needed) or the enum, in
/// `scope`.
pub fn type_def(def: &TypeDef<'_>, scope: Scope<'_>) -> TokenStream {
    match def.shape {
        Shape::Struct { name, description, members } => structure(def, (name, description, members), scope),
        Shape::Enum(field) => enumeration(def, field, scope),
    }
}

/// `#[cfg(any(feature = …))]` of a crate-wide shared type; empty for types inside a family or
/// notification module (whose module is gated already).
pub fn cfg(def: &TypeDef<'_>) -> TokenStream {
    let module: Vec<&str> = def.module.iter().map(String::as_str).collect();
    if !matches!(module.as_slice(), ["types"] | ["v2", "types"]) {
        return TokenStream::new();
    }
    let features = &def.features;
    quote! {
        #[cfg(any(#(feature = #features),*))]
        #[cfg_attr(docsrs, doc(cfg(any(#(feature = #features),*))))]
    }
}

/// The type's doc: the description of its first use (`name` and `description`).
fn type_doc(def: &TypeDef<'_>, name: &str, description: &str) -> TokenStream {
    let mut text = crate::lower::own_text(description);
    if text.is_empty() {
        text = match name {
            "response" => "The response.".to_owned(),
            "payload" => "The decrypted payload.".to_owned(),
            name => format!("`{name}`"),
        };
    }
    let users: Vec<&String> = def.uses.iter().collect();
    if users.len() > 1 {
        let shown: Vec<String> = users.iter().take(6).map(|u| format!("`{u}`")).collect();
        let more = if users.len() > 6 { format!(" and {} more", users.len() - 6) } else { String::new() };
        text += &format!("\n\nShared by {}{more}.", shown.join(", "));
    }
    doc(&text)
}

fn place(def: &TypeDef<'_>) -> Place {
    if def.request {
        Place::Request
    } else {
        Place::Response
    }
}

/// A structure, shaped as its first use (its name there, description and members).
fn structure(
    def: &TypeDef<'_>,
    (shape_name, description, fields): (&str, &str, &[Field]),
    scope: Scope<'_>,
) -> TokenStream {
    let cfg = cfg(def);
    let name = ident(&def.name);
    let place = place(def);
    // A member the client fills is held as optional until it does (see `Operation::fill`).
    let required = super::builder_requires;
    let members = fields.iter().map(|field| {
        let field_ident = scope.ident(field);
        let ty = value_type(field, place, false, scope);
        let doc = field_doc(field, place);
        if required(field) {
            quote! { #doc pub #field_ident: #ty }
        } else {
            quote! { #doc pub #field_ident: Option<#ty> }
        }
    });
    let json: Vec<JsonMember> = fields
        .iter()
        .map(|field| JsonMember {
            ident: scope.ident(field),
            key: field.name.clone(),
            required: required(field),
            format: time_format(field),
            one_of: field.one_of.clone(),
        })
        .collect();
    let from = from_json(&name, &json, &cfg);
    let to = to_json(&name, &json, &cfg);
    // serde's traits for whole responses and payloads (what users store, log, or build in tests);
    // the types inside them convert through `FromJson`/`ToJson` (a `json_serde!` per nested type
    // was a tenth of the crate's check time).
    let document = matches!(shape_name, "response" | "payload")
        && def.uses.iter().all(|u| u.ends_with(" response") || u.ends_with(" payload"));
    let serde = document.then(|| quote! { #cfg crate::runtime::json_serde!(#name); });
    let doc = type_doc(def, shape_name, description);
    let xml = matches!(
        def.module.iter().map(String::as_str).collect::<Vec<_>>().as_slice(),
        ["v2", ..] | ["webhook", "v2", ..]
    );
    let schema = def.response.then(|| schema(&name, fields, &cfg, xml));
    let builder = def.request.then(|| builders::structure(&name, fields, &cfg, scope));
    let page = page_impl(&name, fields, &cfg, scope);
    quote! {
        #doc
        #cfg
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub struct #name {
            #(#members,)*
        }
        #from
        #to
        #serde
        #schema
        #builder
        #page
    }
}

/// The response marker: the documented members, by which a body that is not this answer at all
/// is told apart from one the service sent with fields left out.
fn schema(name: &Ident, fields: &[Field], cfg: &TokenStream, xml: bool) -> TokenStream {
    let members = fields.iter().map(|field| &field.name);
    let any_required = fields.iter().any(|field| field.required);
    // An APIv2 answer or notification is XML on the wire.
    let xml = xml.then(|| quote! { const XML: bool = true; });
    quote! {
        #cfg
        impl crate::runtime::JsonResponse for #name {
            const MEMBERS: &'static [&'static str] = &[#(#members),*];
            const ANY_REQUIRED: bool = #any_required;
            #xml
        }
    }
}

/// A response holding a `data` list is a page of a paged operation.
fn page_impl(name: &Ident, fields: &[Field], cfg: &TokenStream, scope: Scope<'_>) -> Option<TokenStream> {
    let data = fields.iter().find(|f| f.name == "data" && f.ty.is_array())?;
    let data_ident = scope.ident(data);
    let items = if data.required {
        quote! { self.#data_ident.len() }
    } else {
        quote! { self.#data_ident.as_ref().map_or(0, Vec::len) }
    };
    let total = match fields.iter().find(|f| f.name == "total_count") {
        Some(total) => {
            let total_ident = scope.ident(total);
            match (total.ty, total.required) {
                (Type::Integer, true) => quote! { Some(self.#total_ident) },
                (Type::Integer, false) => quote! { self.#total_ident },
                (Type::Number, true) => quote! { self.#total_ident.as_i64() },
                (Type::Number, false) => quote! { self.#total_ident.as_ref().and_then(crate::runtime::Number::as_i64) },
                _ => quote! { None },
            }
        }
        None => quote! { None },
    };
    Some(quote! {
        #cfg
        impl crate::runtime::Page for #name {
            fn items(&self) -> usize {
                #items
            }
            fn total_count(&self) -> Option<i64> {
                #total
            }
        }
    })
}

fn enumeration(def: &TypeDef<'_>, field: &Field, scope: Scope<'_>) -> TokenStream {
    let cfg = cfg(def);
    let name = ident(&def.name);
    let values = enum_values(field);
    let variants = &scope.space.names().of(field).variants;
    let integer = matches!(field.ty, Type::Integer | Type::IntegerArray);
    let variant_idents: Vec<Ident> = variants.iter().map(|v| ident(v)).collect();
    let variant_docs = values.iter().map(|v| format!(" `{v}`"));
    let doc = type_doc(def, &field.name, &field.description);
    let (unknown_ty, conversions) = if integer {
        let numbers: Vec<i64> = values.iter().map(|v| v.parse().unwrap_or_default()).collect();
        (
            quote! { crate::UnknownInteger },
            quote! {
                #cfg
                impl #name {
                    /// The value on the wire.
                    pub fn as_i64(&self) -> i64 {
                        match self {
                            #(#name::#variant_idents => #numbers,)*
                            #name::Unknown(value) => value.as_i64(),
                        }
                    }
                }
                #cfg
                impl From<i64> for #name {
                    fn from(value: i64) -> Self {
                        match value {
                            #(#numbers => #name::#variant_idents,)*
                            other => #name::Unknown(crate::UnknownInteger(other)),
                        }
                    }
                }
                #cfg
                crate::runtime::integer_enum!(#name);
            },
        )
    } else {
        (
            quote! { crate::UnknownValue },
            quote! {
                #cfg
                impl #name {
                    /// The value on the wire.
                    pub fn as_str(&self) -> &str {
                        match self {
                            #(#name::#variant_idents => #values,)*
                            #name::Unknown(value) => value.as_str(),
                        }
                    }
                }
                #cfg
                impl From<&str> for #name {
                    fn from(value: &str) -> Self {
                        match value {
                            #(#values => #name::#variant_idents,)*
                            other => #name::Unknown(crate::UnknownValue(other.to_owned())),
                        }
                    }
                }
                #cfg
                crate::runtime::string_enum!(#name);
            },
        )
    };
    quote! {
        #doc
        #cfg
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#[doc = #variant_docs] #variant_idents,)*
            /// A value the documentation does not list (yet), kept as received.
            Unknown(#unknown_ty),
        }
        #conversions
    }
}
