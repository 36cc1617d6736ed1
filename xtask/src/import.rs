//! `cargo xtask import DOCS`: a docs tree → `specs/`, facts only, descriptions in our words.
//!
//! Each page of the tree is read with the same parser and lowering as codegen (after the reviewed
//! corrections of `specs/overrides.toml`), then written back in one canonical layout
//! (`canonical.rs`) that holds exactly its facts: paths, methods, names, types, required flags,
//! nesting, enum values, markers, hosts, response kinds, titles and official links. Descriptions
//! are ours: what `specs/` already says for that row, else the glossary (`specs/glossary.toml`),
//! else nothing. Every page written is read back and must give the same IR as its source, so a
//! page the import cannot represent is an error, never a guess.

pub mod canonical;
pub mod formats;
pub mod glossary;
pub mod overrides;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::PageError;
use crate::ir::{Field, Notification, Operation, Response};
use crate::load::pages;
use crate::lower::{lower, Lowered};
use crate::parse;
use canonical::{Describe, Place};
use formats::Samples;
use glossary::Glossary;
use overrides::Overrides;

/// The glossary and the overrides, in `specs/`; the tables overrides put in place, in
/// `specs/overrides/`.
pub const GLOSSARY: &str = "glossary.toml";
pub const OVERRIDES: &str = "overrides.toml";
pub const FRAGMENTS: &str = "overrides";

/// What an import found and did.
#[derive(Debug, Default)]
pub struct Report {
    /// Pages of `specs/` (relative paths) new, rewritten, removed, unchanged.
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Defects of the source pages the lowering worked around, not reviewed in the overrides.
    pub unreviewed: Vec<String>,
    /// Worked-around defects that an override accepts, and the pages an override corrected.
    pub reviewed: Vec<String>,
    pub overrides: usize,
    /// Rows written, and rows with a description of ours.
    pub rows: usize,
    pub described: usize,
    pub operations: usize,
    pub notifications: usize,
}

impl Report {
    /// Whether `specs/` is what the import writes (for `--check`).
    pub fn up_to_date(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} operations and {} notifications: {} pages added, {} changed, {} removed, {} unchanged; \
             {} of {} rows described in our words ({:.1}%); {} overrides",
            self.operations,
            self.notifications,
            self.added.len(),
            self.changed.len(),
            self.removed.len(),
            self.unchanged,
            self.described,
            self.rows,
            percent(self.described, self.rows),
            self.overrides,
        )
    }
}

pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Imports the pages of `docs` into `specs`, or with `check` only compares.
pub fn run(docs: &Path, specs: &Path, check: bool) -> Result<Report, Vec<PageError>> {
    let glossary = Glossary::read(&specs.join(GLOSSARY)).map_err(|e| vec![e])?;
    let overrides = Overrides::read(&specs.join(OVERRIDES)).map_err(|e| vec![e])?;
    let existing = Existing::read(specs)?;
    let sources = pages(docs).map_err(|e| vec![io_error(docs, e)])?;
    let known: BTreeSet<&str> = sources.iter().map(|(relative, _)| relative.as_str()).collect();
    let mut errors: Vec<PageError> = overrides
        .pages()
        .filter(|o| !known.contains(o.file.as_str()))
        .map(|o| PageError {
            file: o.file.clone(),
            line: 0,
            message: "an override names a page the docs tree does not have".into(),
        })
        .collect();

    let texts: Vec<(&String, Result<String, Vec<PageError>>)> = sources
        .par_iter()
        .map(|(relative, path)| {
            (relative, std::fs::read_to_string(path).map_err(|e| vec![io_error(Path::new(relative), e)]))
        })
        .collect();
    // The rule deciding times reads the samples of every page (a page's neighbours count).
    let samples = Samples::collect(
        texts.iter().filter_map(|(relative, text)| Some((relative.as_str(), text.as_ref().ok()?.as_str()))),
    );
    let imported: Vec<(String, Result<Imported, Vec<PageError>>)> = texts
        .into_par_iter()
        .map(|(relative, text)| {
            let result = text.and_then(|text| {
                let source = Source { overrides: &overrides, fragments: &specs.join(FRAGMENTS), samples: &samples };
                import_page(relative, &text, &source, &existing, &glossary)
            });
            (relative.clone(), result)
        })
        .collect();

    let mut report = Report { overrides: overrides.len(), ..Report::default() };
    let mut written = BTreeMap::new();
    for (relative, result) in imported {
        match result {
            Ok(Imported::Redirect) => {}
            Ok(Imported::Page { text, warnings, rows, described, operations, notifications }) => {
                let entry = overrides.for_page(&relative);
                for warning in warnings {
                    match entry {
                        Some(o) if o.accepts(&warning) => report.reviewed.push(warning),
                        _ => report.unreviewed.push(warning),
                    }
                }
                if let Some(o) = entry {
                    if !o.accept.is_empty()
                        && !o.accept.iter().all(|a| report.reviewed.iter().any(|w| w.contains(a.as_str())))
                    {
                        errors.push(PageError {
                            file: relative.clone(),
                            line: 0,
                            message: "an override accepts a warning the page no longer gives: review the override"
                                .into(),
                        });
                    }
                    if !o.rows.is_empty() || !o.insert.is_empty() || o.replace.is_some() {
                        report.reviewed.push(format!("{relative}: corrected: {}", o.reason));
                    }
                }
                report.rows += rows;
                report.described += described;
                report.operations += operations;
                report.notifications += notifications;
                written.insert(relative, text);
            }
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        return Err(errors);
    }

    let current = existing.files;
    for (relative, text) in &written {
        match current.get(relative) {
            None => report.added.push(relative.clone()),
            Some(old) if old != text => report.changed.push(relative.clone()),
            Some(_) => report.unchanged += 1,
        }
    }
    report.removed = current.keys().filter(|f| !written.contains_key(*f)).cloned().collect();
    if !check {
        write(specs, &written, &report).map_err(|e| vec![io_error(specs, e)])?;
    }
    Ok(report)
}

fn io_error(path: &Path, e: std::io::Error) -> PageError {
    PageError { file: path.display().to_string(), line: 0, message: e.to_string() }
}

fn write(specs: &Path, written: &BTreeMap<String, String>, report: &Report) -> std::io::Result<()> {
    for relative in &report.removed {
        std::fs::remove_file(specs.join(relative))?;
    }
    for relative in report.added.iter().chain(&report.changed) {
        let target = specs.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &written[relative])?;
    }
    for root in ["openapi", "webhook"] {
        crate::files::remove_empty_dirs(&specs.join(root))?;
    }
    Ok(())
}

enum Imported {
    Redirect,
    Page { text: String, warnings: Vec<String>, rows: usize, described: usize, operations: usize, notifications: usize },
}

/// What a source page is read with: the reviewed corrections (and the folder of the tables they
/// put in place) and the tree's samples, for the rule deciding times.
pub struct Source<'a> {
    pub overrides: &'a Overrides,
    pub fragments: &'a Path,
    pub samples: &'a Samples,
}

impl Source<'_> {
    /// Reads a page of the source tree: its override applied, its times decided, lowered.
    pub fn read(&self, relative: &str, text: &str) -> Result<Lowered, Vec<PageError>> {
        let fix = self.overrides.for_page(relative).map(|o| (o, self.fragments));
        read(relative, text, fix, Some(self.samples))
    }
}

/// Reads one source page (with its override), writes its canonical text, and checks that the
/// text reads back to the same facts.
fn import_page(
    relative: &str,
    text: &str,
    source: &Source<'_>,
    existing: &Existing,
    glossary: &Glossary,
) -> Result<Imported, Vec<PageError>> {
    let lowered = source.read(relative, text)?;
    let family = match &lowered {
        Lowered::Operations(ops, _) => ops.first().map(|op| op.family.as_str()).unwrap_or_default(),
        _ => "webhook",
    };
    let words = Words::new(relative, family, existing, glossary);
    let (text, warnings, counts) = match &lowered {
        Lowered::Redirect => return Ok(Imported::Redirect),
        Lowered::Operations(ops, warnings) => {
            let refs: Vec<&Operation> = ops.iter().collect();
            (canonical::operations_page(&refs, &words), warnings.clone(), (ops.len(), 0))
        }
        Lowered::Notification(n, warnings) => {
            if let Some(reason) = &n.untyped {
                return Err(vec![PageError {
                    file: relative.to_owned(),
                    line: n.line,
                    message: format!("the payload cannot be read ({reason}); correct the page in {OVERRIDES}"),
                }]);
            }
            (canonical::notification_page(n, &words), warnings.clone(), (0, 1))
        }
    };
    let back = read(relative, &text, None, None).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| PageError { message: format!("the imported page does not read back: {}", e.message), ..e })
            .collect::<Vec<_>>()
    })?;
    let (source, written) = (facts(&lowered), facts(&back));
    if source != written {
        return Err(vec![PageError {
            file: relative.to_owned(),
            line: 1,
            message: format!(
                "the imported page reads back to other facts than its source (a bug of the import): {}",
                first_difference(&json(&source), &json(&written), "")
            ),
        }]);
    }
    Ok(Imported::Page {
        text,
        warnings,
        rows: words.rows.get(),
        described: words.described.get(),
        operations: counts.0,
        notifications: counts.1,
    })
}

fn json(lowered: &Lowered) -> serde_json::Value {
    match lowered {
        Lowered::Operations(ops, _) => serde_json::to_value(ops),
        Lowered::Notification(n, _) => serde_json::to_value(n),
        Lowered::Redirect => Ok(serde_json::Value::Null),
    }
    .unwrap_or_default()
}

/// The JSON path of the first difference between two values, and both sides there.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (l, r) = (x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null));
                if l != r {
                    return first_difference(l, r, &format!("{at}.{key}"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                if l != r {
                    return first_difference(l, r, &format!("{at}[{i}]"));
                }
            }
        }
        _ => {}
    }
    let short = |v: &Value| v.to_string().chars().take(120).collect::<String>();
    format!("`{at}`: {} became {}", short(a), short(b))
}

/// Parses a page, applies its override (with the folder of its fragments), with `samples` (a
/// source page) writes the rule's time formats (`formats.rs`), lowers it.
pub fn read(
    relative: &str,
    text: &str,
    fix: Option<(&overrides::PageOverride, &Path)>,
    samples: Option<&Samples>,
) -> Result<Lowered, Vec<PageError>> {
    let (mut page, errors) = parse::parse(text);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| PageError { file: relative.to_owned(), line: e.line, message: e.message })
            .collect());
    }
    if let Some((fix, fragments)) = fix {
        fix.apply(&mut page, fragments).map_err(|e| vec![e])?;
    }
    if let Some(samples) = samples {
        formats::mark(&mut page, relative, samples);
    }
    lower(relative, &page)
}

/// The facts of a lowered page: everything but descriptions, lines and warnings.
pub fn facts(lowered: &Lowered) -> Lowered {
    fn clear(fields: &mut [Field]) {
        for f in fields {
            f.description.clear();
            f.line = 0;
            clear(&mut f.children);
        }
    }
    fn operation(op: &Operation) -> Operation {
        let mut op = op.clone();
        op.description.clear();
        op.line = 0;
        let r = &mut op.request;
        clear(&mut r.path_params);
        clear(&mut r.query);
        clear(&mut r.headers);
        for part in [&mut r.json, &mut r.multipart, &mut r.xml].into_iter().flatten() {
            part.line = 0;
            clear(&mut part.fields);
        }
        if let Some(base) = &mut r.base_uri {
            base.line = 0;
        }
        if let Some(fragment) = &mut r.fragment {
            fragment.line = 0;
        }
        if let Response::Json { fields } = &mut op.response {
            clear(fields);
        }
        op
    }
    fn notification(n: &Notification) -> Notification {
        let mut n = n.clone();
        n.description.clear();
        n.line = 0;
        clear(&mut n.headers);
        clear(&mut n.envelope);
        clear(&mut n.payload);
        n
    }
    match lowered {
        Lowered::Operations(ops, _) => Lowered::Operations(ops.iter().map(operation).collect(), Vec::new()),
        Lowered::Notification(n, _) => Lowered::Notification(Box::new(notification(n)), Vec::new()),
        Lowered::Redirect => Lowered::Redirect,
    }
}

/// What `specs/` says today: its pages' text, and our description of each row and page.
#[derive(Default)]
pub struct Existing {
    /// Relative path → text, for every page under `openapi/` and `webhook/`.
    files: BTreeMap<String, String>,
    /// (page, method, row path) → description (enum list removed).
    rows: BTreeMap<(String, String, String), String>,
    /// Page → its front-matter description.
    pages: BTreeMap<String, String>,
}

impl Existing {
    fn read(specs: &Path) -> Result<Existing, Vec<PageError>> {
        let mut existing = Existing::default();
        if !specs.is_dir() {
            return Ok(existing);
        }
        let files: Vec<(String, PathBuf)> = pages(specs)
            .map_err(|e| vec![io_error(specs, e)])?
            .into_iter()
            .filter(|(relative, _)| relative.starts_with("openapi/") || relative.starts_with("webhook/"))
            .collect();
        let mut errors = Vec::new();
        for (relative, path) in files {
            let text = std::fs::read_to_string(&path).map_err(|e| vec![io_error(&path, e)])?;
            match read(&relative, &text, None, None) {
                Ok(Lowered::Operations(ops, _)) => {
                    for op in &ops {
                        existing.pages.insert(relative.clone(), op.description.clone());
                        let method = op.method.as_str();
                        let r = &op.request;
                        let mut add = |path: &str, fields: &[Field]| existing.collect(&relative, method, path, fields);
                        add("path", &r.path_params);
                        add("query", &r.query);
                        add("headers", &r.headers);
                        if let Some(json) = &r.json {
                            add("json", &json.fields);
                        }
                        if let Some(body) = &r.multipart {
                            add("body", &body.fields);
                        }
                        if let Some(xml) = &r.xml {
                            add("xml", &xml.fields);
                        }
                        if let Response::Json { fields } = &op.response {
                            add("response", fields);
                        }
                    }
                }
                Ok(Lowered::Notification(n, _)) => {
                    existing.pages.insert(relative.clone(), n.description.clone());
                    existing.collect(&relative, "", "headers", &n.headers);
                    existing.collect(&relative, "", "body", &n.envelope);
                }
                Ok(Lowered::Redirect) => {}
                Err(e) => errors.extend(e),
            }
            existing.files.insert(relative, text);
        }
        if errors.is_empty() {
            Ok(existing)
        } else {
            Err(errors)
        }
    }

    fn collect(&mut self, page: &str, method: &str, at: &str, fields: &[Field]) {
        for field in fields {
            let path = format!("{at}.{}", field.name);
            let text = crate::lower::own_text(&field.description);
            if !text.is_empty() {
                self.rows.insert((page.to_owned(), method.to_owned(), path.clone()), text);
            }
            self.collect(page, method, &path, &field.children);
        }
    }
}

/// The describer of one page: `specs/` first, then the glossary; counts what it described.
struct Words<'a> {
    page: &'a str,
    family: String,
    existing: &'a Existing,
    glossary: &'a Glossary,
    rows: Cell<usize>,
    described: Cell<usize>,
}

impl<'a> Words<'a> {
    fn new(page: &'a str, family: &str, existing: &'a Existing, glossary: &'a Glossary) -> Self {
        Words { page, family: family.to_owned(), existing, glossary, rows: Cell::new(0), described: Cell::new(0) }
    }
}

impl Describe for Words<'_> {
    fn describe(&self, place: &Place<'_>) -> String {
        self.rows.set(self.rows.get() + 1);
        let key = (self.page.to_owned(), place.method.to_owned(), place.path.clone());
        let text = match self.existing.rows.get(&key) {
            Some(text) => text.clone(),
            None => {
                // APIv2's pages share names no APIv3 page uses (`return_code`, `sign`, …): their
                // words are in `[family.v2]`, so that APIv3's descriptions stay as they are.
                let v2 = self.page.starts_with("openapi/v2/") || self.page.starts_with("webhook/v2/");
                let families: &[&str] = if v2 { &[&self.family, "v2"] } else { &[&self.family] };
                self.glossary.lookup_in(families, place.parent, place.name, place.ty).unwrap_or_default().to_owned()
            }
        };
        if !text.is_empty() {
            self.described.set(self.described.get() + 1);
        }
        text
    }

    fn page(&self) -> String {
        self.existing.pages.get(self.page).cloned().unwrap_or_default()
    }
}
