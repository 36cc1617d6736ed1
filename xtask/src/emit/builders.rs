//! Builders (after aws-sdk-rust): `x(impl Into<T>)` sets, `set_x(Option<T>)` replaces, a nested
//! structure's setter takes its builder or a built value, a list's setter pushes one item;
//! `build()` reports every missing required field and every invalid value at once, by JSON path.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{builder_requires, doc, prose, value_type, Place, Scope};
use crate::ir::{Encoding, Encryption, Field, Type};

/// One member of a builder.
pub struct Member<'a> {
    pub field: &'a Field,
    pub place: Place,
    /// `build()` fails without it.
    pub required: bool,
    /// A path parameter: also never empty, `.` or `..`.
    pub path: bool,
    /// The multipart `meta` part: a structure sent as JSON text (not wrapped).
    pub multipart: bool,
    /// The request part: `path`, `query`, `headers`, `json` or `body` (multipart); empty for a
    /// member of a nested structure.
    pub part: &'static str,
}

impl<'a> Member<'a> {
    /// A member of a request body structure.
    pub fn body(field: &'a Field) -> Self {
        // A member the client fills (from the file of an upload) is not the builder's to insist on.
        Member {
            field,
            place: Place::Request,
            required: builder_requires(field),
            path: false,
            multipart: false,
            part: "",
        }
    }
}

/// How a member is held while building.
enum Shape {
    /// A scalar, enum, untyped value or file: `Option<T>`.
    Value(TokenStream),
    /// A list of scalars: `Option<Vec<T>>`, pushed one by one.
    Values(TokenStream),
    /// A nested structure: `Option<XBuilder>`; `wrap` it when built (a structure in a string).
    Nested { built: TokenStream, builder: TokenStream, wrap: Option<TokenStream> },
    /// A list of nested structures: `Option<Vec<XBuilder>>`.
    NestedList { built: TokenStream, builder: TokenStream },
}

fn shape(member: &Member<'_>, scope: Scope<'_>) -> Shape {
    let field = member.field;
    if let Some(ty) = scope.structure(field) {
        let built = scope.name(ty, "");
        let builder = scope.name(ty, "Builder");
        return match field.ty {
            Type::ObjectArray => Shape::NestedList { built, builder },
            Type::String if !member.multipart => {
                let wrap = match field.encoded {
                    Some(Encoding::UrlEncode) => quote! { crate::runtime::UrlEncoded },
                    _ => quote! { crate::runtime::JsonEncoded },
                };
                Shape::Nested { built, builder, wrap: Some(wrap) }
            }
            _ => Shape::Nested { built, builder, wrap: None },
        };
    }
    if member.multipart && field.ty == Type::Object && field.children.is_empty() {
        return Shape::Value(quote! { crate::runtime::File });
    }
    if field.ty.is_array() {
        let item = match (field.ty, scope.enumeration(field)) {
            (Type::StringArray | Type::IntegerArray, Some(ty)) => scope.name(ty, ""),
            (Type::StringArray, _) if field.encrypted == Some(Encryption::RsaPubkey) => {
                quote! { crate::runtime::Sensitive }
            }
            (Type::StringArray, _) => quote! { String },
            (Type::IntegerArray, _) => quote! { i64 },
            (Type::NumberArray, _) => quote! { crate::runtime::Number },
            (Type::BooleanArray, _) => quote! { bool },
            _ => quote! { serde_json::Value },
        };
        return Shape::Values(item);
    }
    Shape::Value(value_type(field, member.place, false, scope))
}

/// A setter's docs; `group`: the members of its group of alternatives, if it is in one.
fn setter_doc(member: &Member<'_>, group: Option<&[&Member<'_>]>) -> TokenStream {
    let mut text = prose(member.field);
    if text.is_empty() {
        text = format!("`{}`", member.field.name);
    }
    if member.required {
        text = format!("**Required.** {text}");
    }
    if let Some(group) = group {
        let listed: Vec<String> = group.iter().map(|m| format!("`{}`", m.field.name)).collect();
        text = format!("**One of** {} **is required.** {text}", listed.join(", "));
    }
    if member.field.encrypted == Some(Encryption::RsaPubkey) {
        text.push_str("\n\nSensitive: give it in plain text; the client sends it encrypted.");
    }
    text += &super::time_doc(member.field);
    doc(&text)
}

/// The builder of `name`: struct, setters, `build()`, the `Builder` impl; with `base_uri` for a
/// request whose operation names its host.
pub fn builder(
    name: &Ident,
    members: &[Member<'_>],
    base_uri: Option<&str>,
    cfg: &TokenStream,
    scope: Scope<'_>,
) -> TokenStream {
    let builder = format_ident!("{}Builder", name);
    let mut slots = Vec::new();
    let mut setters = Vec::new();
    let mut lets = Vec::new();
    let mut inits = Vec::new();
    let mut uses_context = false;
    // `data-one-of` groups, in order: at least one member of each must be set.
    let groups = crate::ir::alternatives(members, |member| member.field.one_of.as_deref());
    let mut checks = Vec::new();
    for of in &groups {
        let set = of.iter().map(|m| {
            let ident = scope.ident(m.field);
            quote! { self.#ident.is_some() }
        });
        let names = of.iter().map(|m| m.field.name.as_str());
        checks.push(quote! { crate::runtime::one_of(&[#(#set),*], at, &[#(#names),*], problems); });
        uses_context = true;
    }
    for member in members {
        // The group this member belongs to, for its setter's docs.
        let group = groups.iter().find(|of| of.iter().any(|m| std::ptr::eq(*m, member)));
        let field = member.field;
        let field_ident = scope.ident(field);
        let plain = field_ident.to_string().trim_start_matches("r#").to_owned();
        let set_ident = format_ident!("set_{}", plain);
        let wire = &field.name;
        let doc = setter_doc(member, group.map(|of| of.as_slice()));
        // rustdoc cannot link to a raw identifier (`Self::r#type` reads as `Self::r`, fragment `type`).
        let set_doc = if field_ident.to_string().starts_with("r#") {
            format!(" Sets or clears `{plain}` with a built value.")
        } else {
            format!(" Sets or clears [`{plain}`](Self::{field_ident}) with a built value.")
        };
        match shape(member, scope) {
            Shape::Value(ty) => {
                slots.push(quote! { #field_ident: Option<#ty> });
                setters.push(quote! {
                    #doc
                    pub fn #field_ident(mut self, value: impl Into<#ty>) -> Self {
                        self.#field_ident = Some(value.into());
                        self
                    }
                    #[doc = #set_doc]
                    pub fn #set_ident(mut self, value: Option<#ty>) -> Self {
                        self.#field_ident = value;
                        self
                    }
                });
            }
            Shape::Values(item) => {
                slots.push(quote! { #field_ident: Option<Vec<#item>> });
                setters.push(quote! {
                    #doc
                    ///
                    /// Adds one item to the list.
                    pub fn #field_ident(mut self, item: impl Into<#item>) -> Self {
                        self.#field_ident.get_or_insert_with(Vec::new).push(item.into());
                        self
                    }
                    #[doc = #set_doc]
                    pub fn #set_ident(mut self, value: Option<Vec<#item>>) -> Self {
                        self.#field_ident = value;
                        self
                    }
                });
            }
            Shape::Nested { built, builder, .. } => {
                slots.push(quote! { #field_ident: Option<#builder> });
                setters.push(quote! {
                    #doc
                    ///
                    /// Takes the builder or a built value.
                    pub fn #field_ident(mut self, value: impl Into<#builder>) -> Self {
                        self.#field_ident = Some(value.into());
                        self
                    }
                    #[doc = #set_doc]
                    pub fn #set_ident(mut self, value: Option<#built>) -> Self {
                        self.#field_ident = value.map(Into::into);
                        self
                    }
                });
            }
            Shape::NestedList { built, builder } => {
                slots.push(quote! { #field_ident: Option<Vec<#builder>> });
                setters.push(quote! {
                    #doc
                    ///
                    /// Adds one item (its builder or a built value) to the list.
                    pub fn #field_ident(mut self, item: impl Into<#builder>) -> Self {
                        self.#field_ident.get_or_insert_with(Vec::new).push(item.into());
                        self
                    }
                    #[doc = #set_doc]
                    pub fn #set_ident(mut self, value: Option<Vec<#built>>) -> Self {
                        self.#field_ident = value.map(|items| items.into_iter().map(Into::into).collect());
                        self
                    }
                });
            }
        }
        let (check, init) = build_member(member, &field_ident, wire, scope);
        if check.is_some() {
            uses_context = true;
        }
        lets.extend(check);
        inits.push(init);
    }
    if let Some(documented) = base_uri {
        slots.push(quote! { base_uri: Option<String> });
        let text = format!("Sends to this host instead of the one the documentation names (`{documented}`).");
        let text = if documented.is_empty() { "Sends to this host instead of the client's.".to_owned() } else { text };
        let doc = doc(&text);
        setters.push(quote! {
            #doc
            pub fn base_uri(mut self, value: impl Into<String>) -> Self {
                self.base_uri = Some(value.into());
                self
            }
        });
        inits.push(quote! { base_uri: self.base_uri });
    }
    let (at, problems) =
        if uses_context { (quote! { at }, quote! { problems }) } else { (quote! { _at }, quote! { _problems }) };
    let builder_doc =
        format!(" Builds a [`{name}`]: one setter per field; `build()` names every missing required field.");
    quote! {
        #cfg
        impl #name {
            /// A builder; see its setters.
            pub fn builder() -> #builder {
                #builder::default()
            }
        }

        #[doc = #builder_doc]
        #cfg
        #[derive(Clone, Debug, Default)]
        pub struct #builder {
            #(#slots,)*
        }

        #cfg
        impl #builder {
            #(#setters)*

            /// The value, or a [`BuildError`](crate::runtime::BuildError) naming every missing
            /// required field and every invalid value.
            pub fn build(self) -> Result<#name, crate::runtime::BuildError> {
                let mut problems = crate::runtime::Problems::default();
                let value = crate::runtime::Builder::build_at(self, "", &mut problems);
                crate::runtime::finish(value, problems)
            }
        }

        #cfg
        impl crate::runtime::Builder for #builder {
            type Output = #name;

            fn build_at(self, #at: &str, #problems: &mut crate::runtime::Problems) -> Option<#name> {
                #(#checks)*
                #(#lets)*
                Some(#name { #(#inits,)* })
            }
        }
    }
}

/// The check of one member in `build_at` (if it needs one) and its initialiser.
fn build_member(
    member: &Member<'_>,
    field_ident: &Ident,
    wire: &str,
    scope: Scope<'_>,
) -> (Option<TokenStream>, TokenStream) {
    let take = quote! { self.#field_ident };
    match (shape(member, scope), member.required) {
        (Shape::Value(_) | Shape::Values(_), true) => {
            let check = if member.path {
                quote! { path_value }
            } else {
                quote! { required }
            };
            (
                Some(quote! { let #field_ident = crate::runtime::#check(#take, at, #wire, problems); }),
                quote! { #field_ident: #field_ident? },
            )
        }
        (Shape::Value(_) | Shape::Values(_), false) => (None, quote! { #field_ident: #take }),
        (Shape::Nested { wrap, .. }, true) => {
            let wrap = wrap.map(|w| quote! { .map(#w) });
            (
                Some(quote! {
                    let #field_ident = crate::runtime::required(#take, at, #wire, problems)
                        .and_then(|value| crate::runtime::nested(value, at, #wire, problems)) #wrap;
                }),
                quote! { #field_ident: #field_ident? },
            )
        }
        (Shape::Nested { wrap, .. }, false) => {
            let wrap = wrap.map(|w| quote! { .map(|value| value.map(#w)) });
            (
                Some(quote! { let #field_ident = crate::runtime::optional(#take, at, #wire, problems) #wrap; }),
                quote! { #field_ident: #field_ident? },
            )
        }
        (Shape::NestedList { .. }, true) => (
            Some(quote! {
                let #field_ident = crate::runtime::required(#take, at, #wire, problems)
                    .and_then(|value| crate::runtime::list(value, at, #wire, problems));
            }),
            quote! { #field_ident: #field_ident? },
        ),
        (Shape::NestedList { .. }, false) => (
            Some(quote! {
                let #field_ident = match #take {
                    Some(value) => crate::runtime::list(value, at, #wire, problems).map(Some),
                    None => Some(None),
                };
            }),
            quote! { #field_ident: #field_ident? },
        ),
    }
}

/// A request body structure's builder, and the conversion that lets its parent's setter take a
/// built value.
pub fn structure(name: &Ident, fields: &[Field], cfg: &TokenStream, scope: Scope<'_>) -> TokenStream {
    let members: Vec<Member<'_>> = fields.iter().map(Member::body).collect();
    let builder_tokens = builder(name, &members, None, cfg, scope);
    let builder = format_ident!("{}Builder", name);
    let conversions = members.iter().map(|member| {
        let field_ident = scope.ident(member.field);
        let value = quote! { value.#field_ident };
        let converted = match (shape(member, scope), member.required) {
            (Shape::Value(_) | Shape::Values(_), true) => quote! { Some(#value) },
            (Shape::Value(_) | Shape::Values(_), false) => value,
            (Shape::Nested { wrap: Some(_), .. }, true) => quote! { Some(#value.0.into()) },
            (Shape::Nested { wrap: Some(_), .. }, false) => quote! { #value.map(|inner| inner.0.into()) },
            (Shape::Nested { .. }, true) => quote! { Some(#value.into()) },
            (Shape::Nested { .. }, false) => quote! { #value.map(Into::into) },
            (Shape::NestedList { .. }, true) => quote! { Some(#value.into_iter().map(Into::into).collect()) },
            (Shape::NestedList { .. }, false) => {
                quote! { #value.map(|items| items.into_iter().map(Into::into).collect()) }
            }
        };
        quote! { #field_ident: #converted }
    });
    quote! {
        #builder_tokens

        #cfg
        impl From<#name> for #builder {
            fn from(value: #name) -> Self {
                #builder { #(#conversions,)* }
            }
        }
    }
}
