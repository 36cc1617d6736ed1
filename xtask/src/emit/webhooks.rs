//! Notifications: one module per event page (its payload type and the types only it uses), and
//! `webhook.rs` with [`Event`], any of them, and the notifications' registry entries.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::operations::{defined_in, page_url, reexports_tokens, shared};
use super::{doc, ident, path_tokens, types, Scope};
use crate::fields::Owner;
use crate::ir::{Api, Notification, Protocol};
use crate::naming::Names;
use crate::typespace::{TypeDef, TypeSpace};

/// `src/webhook/v3/<event>.rs`.
pub fn notification(n: &Notification, local: &[&TypeDef<'_>], space: &TypeSpace<'_>) -> TokenStream {
    let own = space.names().module(n).join("::");
    let reexports = shared(Owner::Notification(n), &own, space);
    let payload_type = space.top(Owner::Notification(n)).map(|id| &space.def(id).path);
    let payload = match (&n.untyped, payload_type) {
        (Some(reason), _) => {
            let doc = doc(&format!("The decrypted payload, untyped: {reason}"));
            quote! { #doc pub type Payload = serde_json::Value; }
        }
        (None, Some(path)) if !defined_in(path, &own) => {
            let path = path_tokens(path);
            quote! { pub use #path as Payload; }
        }
        _ => TokenStream::new(),
    };
    let reexports = reexports_tokens(reexports);
    let scope = Scope { module: &own, local: true, space };
    let local_types = local.iter().map(|def| types::type_def(def, scope));
    let event_types = &n.event_types;
    let mut module_doc = format!("`{}`", n.event_type);
    if !n.title.is_empty() {
        module_doc += &format!(": {}", n.title);
    }
    if !n.description.is_empty() {
        module_doc += &format!("\n\n{}", n.description);
    }
    module_doc += &format!("\n\n[wechatpay.im]({})", page_url(&n.file));
    for url in &n.docs {
        module_doc += &format!(", [official documentation]({url})");
    }
    let module_doc = module_doc.lines().map(|l| format!(" {}", l.trim()));
    quote! {
        #(#![doc = #module_doc])*

        #(#reexports)*

        /// The event types whose payload is [`Payload`].
        pub const EVENT_TYPES: &[&str] = &[#(#event_types),*];

        #payload
        #(#local_types)*
    }
}

/// Each event type belongs to one page: its own page first, else the first page listing it.
fn owners(api: &Api) -> BTreeMap<&str, &Notification> {
    let mut owner: BTreeMap<&str, &Notification> = BTreeMap::new();
    for n in v3(api) {
        owner.insert(n.event_type.as_str(), n);
    }
    for n in v3(api) {
        for event in &n.event_types {
            owner.entry(event.as_str()).or_insert(n);
        }
    }
    owner
}

fn v3(api: &Api) -> impl Iterator<Item = &Notification> {
    api.notifications.iter().filter(|n| n.protocol == Protocol::V3)
}

/// `src/webhook.rs`.
pub fn webhook_rs(api: &Api, names: &Names<'_>, has_types: bool) -> TokenStream {
    let owner = owners(api);
    let variants = v3(api).map(|n| {
        let variant = ident(names.variant(n));
        let module = ident(&names.module(n)[2]);
        let doc = format!(" `{}`: {}", n.event_type, n.title);
        quote! { #[doc = #doc] #variant(Box<v3::#module::Payload>) }
    });
    let arms = v3(api).filter_map(|n| {
        let events: Vec<&str> = owner.iter().filter(|(_, o)| o.event_type == n.event_type).map(|(e, _)| *e).collect();
        if events.is_empty() {
            return None;
        }
        let variant = ident(names.variant(n));
        let module = ident(&names.module(n)[2]);
        Some(quote! {
            #(#events)|* => {
                let decoded = <v3::#module::Payload as crate::runtime::Decode>::decode(plaintext)?;
                crate::runtime::Decoded { value: Event::#variant(Box::new(decoded.value)), deviations: decoded.deviations }
            }
        })
    });
    let infos = owner.iter().map(|(event, n)| {
        let module = ident(&names.module(*n)[2]);
        let module_path = names.module(*n).join("::");
        let title = &n.title;
        let page = page_url(&n.file);
        let official = &n.docs;
        quote! {
            crate::runtime::NotificationInfo::new(
                #event,
                #title,
                #module_path,
                #page,
                &[#(#official),*],
                <v3::#module::Payload as crate::runtime::Decode>::decode_value,
            )
        }
    });
    let types = has_types.then(|| quote! { pub mod types; });
    let v2 = api.notifications.iter().any(|n| n.protocol == Protocol::V2).then(|| {
        quote! {
            /// APIv2 notifications: XML signed with the APIv2 key, one module per page.
            pub mod v2;
        }
    });
    quote! {
        //! Notifications: one module per event page, and [`Event`], any of them.
        #types
        pub mod v3;
        #v2

        /// A decrypted notification payload, typed by its event type.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            #(#variants,)*
            /// An event type not documented here (yet): its payload kept as JSON.
            Unknown {
                /// The envelope's `event_type`.
                event_type: String,
                /// The decrypted payload.
                payload: serde_json::Value,
            },
        }

        impl Event {
            /// Parses a decrypted payload by the envelope's `event_type`, leniently (see
            /// [`Decode`](crate::runtime::Decode)): where the payload differs from its
            /// documentation is in `deviations`.
            pub fn parse(event_type: &str, plaintext: &[u8]) -> Result<crate::runtime::Decoded<Event>, crate::runtime::DecodeError> {
                Ok(match event_type {
                    #(#arms,)*
                    _ => {
                        let decoded = <serde_json::Value as crate::runtime::Decode>::decode(plaintext)?;
                        crate::runtime::Decoded {
                            value: Event::Unknown { event_type: event_type.to_owned(), payload: decoded.value },
                            deviations: decoded.deviations,
                        }
                    }
                })
            }
        }

        /// Every event type of the crate, sorted.
        pub(crate) const NOTIFICATIONS: &[crate::runtime::NotificationInfo] = &[#(#infos),*];
    }
}

/// `src/webhook/v2.rs`: the APIv2 notification modules, their [`Event`] and registry entries.
/// APIv2 notifications carry no event type that names their page (except the payscore envelope
/// `TRANSACTION.*` / `CHECK.*`): the merchant's handler says which page its URL receives.
pub fn webhook_v2_rs(api: &Api, names: &Names<'_>, has_types: bool) -> TokenStream {
    let mut pages: Vec<&Notification> = api.notifications.iter().filter(|n| n.protocol == Protocol::V2).collect();
    pages.sort_by(|a, b| a.event_type.cmp(&b.event_type));
    let mods = pages.iter().map(|n| ident(&names.module(*n)[2]));
    let variants = pages.iter().map(|n| {
        let variant = ident(names.variant(n));
        let module = ident(&names.module(*n)[2]);
        let doc = format!(" `{}`: {}", n.event_type, n.title);
        quote! { #[doc = #doc] #variant(Box<#module::Payload>) }
    });
    let arms = pages.iter().map(|n| {
        let variant = ident(names.variant(n));
        let module = ident(&names.module(*n)[2]);
        let name = &n.event_type;
        quote! {
            #name => <#module::Payload as crate::runtime::Decode>::decode(body).map(|decoded| crate::runtime::Decoded {
                value: Event::#variant(Box::new(decoded.value)),
                deviations: decoded.deviations,
            })
        }
    });
    let infos = pages.iter().map(|n| {
        let module = ident(&names.module(*n)[2]);
        let module_path = names.module(*n).join("::");
        let (name, title, page, official) = (&n.event_type, &n.title, page_url(&n.file), &n.docs);
        quote! {
            crate::runtime::NotificationInfo::new(
                #name,
                #title,
                #module_path,
                #page,
                &[#(#official),*],
                <#module::Payload as crate::runtime::Decode>::decode_value,
            )
            .apiv2()
        }
    });
    let types = has_types.then(|| quote! { pub mod types; });
    quote! {
        //! APIv2 notifications: one module per page, and [`Event`], any of them.
        #types
        #(pub mod #mods;)*

        /// An APIv2 notification's payload (the decrypted `req_info` or `event_ciphertext`, or the
        /// signed body itself), typed by its page.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            #(#variants,)*
        }

        impl Event {
            /// Reads a payload (XML) as the page `name` documents it (`refund-processed`,
            /// `TRANSACTION.SUCCESS`, …), leniently; `None` for a page this crate does not hold.
            pub fn parse(name: &str, body: &[u8]) -> Option<Result<crate::runtime::Decoded<Event>, crate::runtime::DecodeError>> {
                Some(match name {
                    #(#arms,)*
                    _ => return None,
                })
            }
        }

        /// Every APIv2 notification page of the crate, sorted by name.
        pub(crate) const NOTIFICATIONS: &[crate::runtime::NotificationInfo] = &[#(#infos),*];
    }
}
