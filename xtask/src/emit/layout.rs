//! The crate's files: `Cargo.toml`, `lib.rs`, one module file per URL path node (its operations
//! as inline modules, and the chain `client.v3().pay()…`), the shared `types` modules, the
//! notifications and the registry.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;
use rayon::prelude::*;

use super::{ident, operations, render, types, webhooks, Files, Options, Package};
use crate::ir::{Api, Notification, Operation, Protocol};
use crate::naming::{module_path, segments, Names};
use crate::typespace::{TypeDef, TypeSpace};

enum Job<'a> {
    Lib,
    Cargo,
    Registry,
    Node(&'a Node<'a>),
    /// A shared `types` module: its module path and its types.
    Types(Vec<String>, Vec<&'a TypeDef<'a>>),
    Webhook,
    WebhookV3,
    WebhookV2,
    Notification(&'a Notification),
}

pub fn files<'a>(api: &'a Api, space: &'a TypeSpace<'a>, options: &Options<'_>) -> Result<Files, String> {
    let mut by_module: BTreeMap<Vec<String>, Vec<&TypeDef<'a>>> = BTreeMap::new();
    for def in space.types() {
        by_module.entry(def.module.clone()).or_default().push(def);
    }
    let shared: BTreeSet<Vec<String>> =
        by_module.keys().filter(|m| m.last().map(String::as_str) == Some("types")).cloned().collect();
    let names = space.names();
    let nodes = node_tree(api, names, &shared);
    let mut jobs: Vec<Job<'_>> = vec![Job::Lib, Job::Cargo, Job::Registry];
    jobs.extend(nodes.values().map(Job::Node));
    for module in &shared {
        jobs.push(Job::Types(module.clone(), by_module[module].clone()));
    }
    if !api.notifications.is_empty() {
        jobs.push(Job::Webhook);
        jobs.push(Job::WebhookV3);
        jobs.extend(api.notifications.iter().map(Job::Notification));
    }
    if api.notifications.iter().any(|n| n.protocol == Protocol::V2) {
        jobs.push(Job::WebhookV2);
    }
    let empty = Vec::new();
    let local = |module: &[String]| by_module.get(module).unwrap_or(&empty).as_slice();
    let rendered: Result<Vec<(String, String)>, String> = jobs
        .par_iter()
        .map(|job| match job {
            Job::Lib => render(
                "src/lib.rs",
                lib_rs(api, shared.contains(&vec!["types".to_owned()])),
                "the documentation tree",
                options,
            ),
            Job::Cargo => Ok(("Cargo.toml".into(), cargo_toml(api, options))),
            Job::Registry => render("src/registry.rs", registry_rs(api, names), "the documentation tree", options),
            Job::Node(node) => render(&node.file(), node_rs(node, &local, space), &node.sources(), options),
            Job::Types(module, defs) => {
                let file = format!("src/{}.rs", module.join("/"));
                let path = module.join("::");
                let scope = super::Scope { module: &path, local: false, space };
                let items = defs.iter().map(|def| types::type_def(def, scope));
                let doc = match module.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                    ["v2", "types"] => " Types shared by several APIv2 operations.".to_owned(),
                    ["webhook", "v2", "types"] => " Types shared by several APIv2 notifications.".to_owned(),
                    _ => format!(
                        " Types shared by several operations{}.",
                        if module.len() > 1 { " of this family" } else { "" }
                    ),
                };
                render(&file, quote! { #![doc = #doc] #(#items)* }, "the pages that use them", options)
            }
            Job::Webhook => {
                let has_types = shared.contains(&vec!["webhook".to_owned(), "types".to_owned()]);
                render("src/webhook.rs", webhooks::webhook_rs(api, names, has_types), "webhook/v3", options)
            }
            Job::WebhookV3 => {
                let mods =
                    api.notifications.iter().filter(|n| n.protocol == Protocol::V3).map(|n| ident(&names.module(n)[2]));
                render("src/webhook/v3.rs", quote! { #(pub mod #mods;)* }, "webhook/v3", options)
            }
            Job::WebhookV2 => {
                let has_types = shared.contains(&vec!["webhook".to_owned(), "v2".to_owned(), "types".to_owned()]);
                render("src/webhook/v2.rs", webhooks::webhook_v2_rs(api, names, has_types), "webhook/v2", options)
            }
            Job::Notification(n) => {
                let module = names.module(*n);
                let file = format!("src/webhook/{}/{}.rs", module[1], module[2]);
                render(&file, webhooks::notification(n, local(module), space), &n.file, options)
            }
        })
        .collect();
    Ok(rendered?.into_iter().collect())
}

fn features(api: &Api) -> BTreeSet<&str> {
    api.operations.iter().map(|op| op.family.as_str()).collect()
}

fn cargo_toml(api: &Api, options: &Options<'_>) -> String {
    let families: Vec<String> = features(api).into_iter().map(str::to_owned).collect();
    let mut full: Vec<String> = families.iter().map(|f| format!("\"{f}\"")).collect();
    if !api.notifications.is_empty() {
        full.push("\"notifications\"".into());
    }
    let crate_name = options.crate_name;
    let runtime = options.runtime;
    let mut out = String::from("# @generated by `cargo xtask codegen`. Do not edit: edit the pages and regenerate.\n");
    out += &format!("[package]\nname = \"{crate_name}\"\n");
    out += match options.package {
        // A member of this workspace, published with it: its version, metadata and docs.rs
        // settings are the workspace's.
        Package::Workspace => concat!(
            "version.workspace = true\n",
            "edition.workspace = true\n",
            "license.workspace = true\n",
            "rust-version.workspace = true\n",
            "keywords.workspace = true\n",
            "categories.workspace = true\n",
            "description = \"WeChat Pay APIv3 and APIv2 operations and notifications as Rust types, generated from the documentation (used through the wechatpay-sdk crate)\"\n",
            "documentation = \"https://docs.rs/wechatpay-sdk-generated\"\n",
            "include = [\"/src/**/*.rs\", \"/Cargo.toml\", \"/LICENSE-MIT\", \"/LICENSE-APACHE\"]\n",
            "\n[package.metadata.docs.rs]\nfeatures = [\"full\"]\nrustdoc-args = [\"--cfg\", \"docsrs\"]\n",
            "\n[lints]\nworkspace = true\n",
        ),
        Package::Standalone { publish } => {
            let publish = if publish { "" } else { "publish = false\n" };
            return standalone(out, publish, runtime, &families, &full, !api.notifications.is_empty());
        }
    };
    out += &format!("\n[dependencies]\nwechatpay-sdk-runtime = {runtime}\nserde_json = \"1\"\n\n");
    out += &features_table(&families, &full, !api.notifications.is_empty());
    out
}

/// The manifest of a crate generated outside this workspace.
fn standalone(
    mut out: String,
    publish: &str,
    runtime: &str,
    families: &[String],
    full: &[String],
    notifications: bool,
) -> String {
    out += &format!(
        "version = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT OR Apache-2.0\"\n{publish}description = \"WeChat Pay APIv3 operations, generated from the documentation tables\"\n\n"
    );
    out += &format!("[dependencies]\nwechatpay-sdk-runtime = {runtime}\nserde_json = \"1\"\n\n");
    out += &features_table(families, full, notifications);
    out
}

fn features_table(families: &[String], full: &[String], notifications: bool) -> String {
    let mut out = String::from("[features]\ndefault = []\n");
    out += &format!("full = [{}]\n", full.join(", "));
    for family in families {
        out += &format!("{family} = []\n");
    }
    if notifications {
        out += "notifications = []\n";
    }
    out
}

fn lib_rs(api: &Api, has_types: bool) -> TokenStream {
    let webhook = (!api.notifications.is_empty()).then(|| {
        quote! {
            #[cfg(feature = "notifications")]
            #[cfg_attr(docsrs, doc(cfg(feature = "notifications")))]
            pub mod webhook;
        }
    });
    let v3 = api.operations.iter().any(|op| op.protocol == Protocol::V3).then(|| quote! { pub mod v3; });
    let v2 = api.operations.iter().any(|op| op.protocol == Protocol::V2).then(|| {
        quote! {
            /// WeChat Pay APIv2: the XML operations, one module per documented URL path
            /// (`v2::pay::orderquery::post`), signed with the APIv2 key by the transport.
            pub mod v2;
        }
    });
    let types = has_types.then(|| quote! { pub mod types; });
    quote! {
        //! WeChat Pay APIv3 operations and notifications, one module per documented URL path.
        //!
        //! Each operation is a module named after its method (`v3::pay::transactions::jsapi::post`)
        //! holding `Request`, its `RequestBuilder`, `Response` and the types it uses; types used by
        //! several operations are defined once (`v3::<family>::types`, or `types` across families)
        //! and re-exported by each operation's module. Each API family is a cargo feature; `full`
        //! enables them all. [`registry`] lists what is compiled in.
        #![cfg_attr(docsrs, feature(doc_cfg))]
        pub use wechatpay_sdk_runtime as runtime;

        pub mod registry;
        #types
        #v3
        #v2
        #webhook

        /// A value of a string enumeration that the documentation does not list (yet), as
        /// received. Only this crate makes one, so `Unknown` never holds a listed value.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct UnknownValue(pub(crate) String);

        impl UnknownValue {
            /// The value as received.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// A value of an integer enumeration that the documentation does not list (yet).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct UnknownInteger(pub(crate) i64);

        impl UnknownInteger {
            /// The value as received.
            pub fn as_i64(&self) -> i64 {
                self.0
            }
        }
    }
}

fn registry_rs(api: &Api, names: &Names<'_>) -> TokenStream {
    let families: BTreeMap<&str, (&str, &str)> = api
        .operations
        .iter()
        .map(|op| {
            let module = names.module(op);
            (op.family.as_str(), (module[0].as_str(), module[1].as_str()))
        })
        .collect();
    let extend = families.iter().map(|(feature, (root, module))| {
        let (root, module) = (ident(root), ident(module));
        quote! {
            #[cfg(feature = #feature)]
            all.extend_from_slice(crate::#root::#module::OPERATIONS);
        }
    });
    let v2_notifications = api.notifications.iter().any(|n| n.protocol == Protocol::V2).then(|| {
        quote! {
            /// Every APIv2 notification compiled in, by the name of its page (`refund-processed`,
            /// `TRANSACTION.SUCCESS`), sorted.
            pub fn v2_notifications() -> &'static [NotificationInfo] {
                #[cfg(feature = "notifications")]
                let all = crate::webhook::v2::NOTIFICATIONS;
                #[cfg(not(feature = "notifications"))]
                let all = &[];
                all
            }

            /// The APIv2 notification of a page's name, e.g. `refund-processed`.
            pub fn v2_notification(name: &str) -> Option<&'static NotificationInfo> {
                v2_notifications().iter().find(|n| n.event_type == name)
            }
        }
    });
    let notifications = if api.notifications.is_empty() {
        quote! { &[] }
    } else {
        quote! {
            {
                #[cfg(feature = "notifications")]
                let all = crate::webhook::NOTIFICATIONS;
                #[cfg(not(feature = "notifications"))]
                let all = &[];
                all
            }
        }
    };
    quote! {
        //! What this crate holds, as data: every operation and notification compiled in (by the
        //! enabled features), with its documented facts, a way to decode its answers without
        //! naming its types, and a way to build its request from JSON. For logging, mocks and
        //! dynamic dispatch.

        use std::sync::OnceLock;

        pub use crate::runtime::{NotificationInfo, OperationInfo};

        /// Every operation compiled in, sorted by path, then method.
        pub fn operations() -> &'static [OperationInfo] {
            static ALL: OnceLock<Vec<OperationInfo>> = OnceLock::new();
            ALL.get_or_init(|| {
                #[allow(unused_mut)]
                let mut all: Vec<OperationInfo> = Vec::new();
                #(#extend)*
                all.sort_by(|a, b| (a.path, a.method).cmp(&(b.path, b.method)));
                all
            })
        }

        /// The operation for `method` and `path`: the documented template
        /// (`/v3/refund/domestic/refunds/{out_refund_no}`) or a concrete path
        /// (`/v3/refund/domestic/refunds/R42`), literal segments preferred over parameters.
        pub fn find(method: &str, path: &str) -> Option<&'static OperationInfo> {
            crate::runtime::find(operations(), method, path)
        }

        /// Every notification event type compiled in, sorted.
        pub fn notifications() -> &'static [NotificationInfo] {
            #notifications
        }

        /// The notification of an event type, e.g. `TRANSACTION.SUCCESS`.
        pub fn notification(event_type: &str) -> Option<&'static NotificationInfo> {
            notifications().iter().find(|n| n.event_type == event_type)
        }
        #v2_notifications
    }
}

/// A node of the URL path tree: a module file.
struct Node<'a> {
    /// Module identifiers from the root, e.g. `["v3", "pay"]`.
    module: Vec<String>,
    /// URL path of the node, e.g. `/v3/pay`.
    path: String,
    /// Child module identifiers → (URL path of the child, family feature when the child is a family).
    children: BTreeMap<String, (String, Option<String>)>,
    operations: Vec<&'a Operation>,
    /// Operations of the family, when this node is a family's.
    family: Vec<&'a Operation>,
    /// Whether the node holds a `types` module.
    types: bool,
}

impl Node<'_> {
    fn file(&self) -> String {
        format!("src/{}.rs", self.module.join("/"))
    }

    fn sources(&self) -> String {
        let files: BTreeSet<&str> = self.operations.iter().map(|op| op.file.as_str()).collect();
        if files.is_empty() {
            format!("the pages under {}", self.path.trim_start_matches('/'))
        } else {
            files.into_iter().collect::<Vec<_>>().join(", ")
        }
    }
}

fn node_tree<'a>(api: &'a Api, names: &Names<'_>, shared: &BTreeSet<Vec<String>>) -> BTreeMap<Vec<String>, Node<'a>> {
    let mut nodes: BTreeMap<Vec<String>, Node<'a>> = BTreeMap::new();
    for op in &api.operations {
        let path = module_path(op);
        let segments = segments(&path);
        let op_module = names.module(op);
        let depth = op_module.len() - 1;
        for i in 0..depth {
            let module = op_module[..=i].to_vec();
            let node = nodes.entry(module.clone()).or_insert_with(|| Node {
                types: shared.contains(&[module.clone(), vec!["types".to_owned()]].concat()),
                module,
                path: format!("/{}", segments[..=i].join("/")),
                children: BTreeMap::new(),
                operations: Vec::new(),
                family: Vec::new(),
            });
            if i == 1 {
                node.family.push(op);
            }
            if i + 1 < depth {
                let family = (i == 0).then(|| op.family.clone());
                node.children.insert(op_module[i + 1].clone(), (format!("/{}", segments[..=i + 1].join("/")), family));
            } else {
                node.operations.push(op);
            }
        }
    }
    nodes
}

fn node_rs<'a>(
    node: &Node<'a>,
    local: &dyn Fn(&[String]) -> &'a [&'a TypeDef<'a>],
    space: &TypeSpace<'_>,
) -> TokenStream {
    let mut mods = Vec::new();
    let mut chain_methods = Vec::new();
    for (child, (path, family)) in &node.children {
        let name = ident(child);
        let cfg = family.as_ref().map(|f| quote! { #[cfg(feature = #f)] #[cfg_attr(docsrs, doc(cfg(feature = #f)))] });
        let inception = (node.module.last() == Some(child)).then(|| {
            quote! { #[allow(clippy::module_inception)] }
        });
        let doc = format!(" `{path}/…`");
        mods.push(quote! { #cfg #inception pub mod #name; });
        chain_methods.push(quote! {
            #[doc = #doc]
            #cfg
            pub fn #name(self) -> #name::Chain<'a, T> {
                #name::Chain::new(self.0)
            }
        });
    }
    if node.types {
        mods.push(quote! { pub mod types; });
    }
    let mut op_modules = Vec::new();
    let mut op_methods = Vec::new();
    for op in &node.operations {
        let method = ident(op.method.as_str());
        op_modules.push(operations::operation(op, local(space.names().module(*op)), space));
        // A signed URL is not sent: `client.signed_url(&request)` makes it.
        if op.is_url_builder() {
            continue;
        }
        let summary = format!(" `{} {}`: {}", op.method.as_str().to_uppercase(), op.path, op.title);
        op_methods.push(quote! {
            #[doc = #summary]
            pub fn #method(self, request: #method::Request) -> T::Future<'a, #method::Request> {
                self.0.send_operation(request)
            }
        });
    }
    let transport_impl = (!op_methods.is_empty()).then(|| {
        quote! {
            impl<'a, T: crate::runtime::Transport + ?Sized> Chain<'a, T> {
                #(#op_methods)*
            }
        }
    });
    let registry = (!node.family.is_empty()).then(|| {
        let here = node.module.len();
        let infos = node.family.iter().map(|op| {
            let segments = space.names().module(*op)[here..].iter().map(|m| ident(m));
            quote! { #(#segments::)*INFO }
        });
        quote! {
            /// This family's operations, for the [registry](crate::registry).
            pub(crate) const OPERATIONS: &[crate::runtime::OperationInfo] = &[#(#infos),*];
        }
    });
    let chain_doc =
        format!(" The chain to `{}` (`client.{}()`).", node.path, node.module.join("().").replace("r#", ""));
    let module_doc = format!(" `{}`", node.path);
    quote! {
        #![doc = #module_doc]
        #(#mods)*

        #[doc = #chain_doc]
        pub struct Chain<'a, T: ?Sized>(&'a T);

        impl<'a, T: ?Sized> Chain<'a, T> {
            /// Starts the chain from a transport.
            pub fn new(transport: &'a T) -> Self {
                Chain(transport)
            }
            #(#chain_methods)*
        }

        #transport_impl
        #registry
        #(#op_modules)*
    }
}
