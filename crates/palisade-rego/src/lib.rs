//! Gatekeeper-compatible Rego policies evaluated with regorus: loading `ConstraintTemplate`s
//! (templates.gatekeeper.sh v1 and v1beta1, Rego v0 and v1, `libs`) and their constraints
//! (constraints.gatekeeper.sh, with `match`, `parameters` and `enforcementAction`), and judging an
//! [`AdmissionRequest`] against them the way Gatekeeper does (`input.review`, `input.parameters`,
//! `data.inventory`). It also owns the fixes that make regorus agree with OPA where real policies
//! notice the difference (see [`compat`]).
//!
//! This crate must not do I/O, decide admission outcomes or know about other policy engines: it
//! reads policy text handed to it and returns [`Violation`]s and evaluation errors; the caller
//! decides what a violation or an error means for the request.

pub mod compat;
pub mod matcher;
mod regex_match;

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use palisade_core::{Node, SourceError};
use palisade_kube::yaml::{self, DocumentInfo, ObjectSink};
use palisade_policy::{Action, AdmissionRequest, Inventory, Operation, Violation};
use serde_json::Value;

pub use matcher::Match;

/// Every problem found while loading a policy set, each naming its file and line.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadErrors(pub Vec<SourceError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for LoadErrors {}

/// A constraint whose evaluation failed (the request cannot be judged by it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {message}")]
pub struct EvalError {
    pub policy: String,
    pub message: String,
}

/// What evaluating a request produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    pub errors: Vec<EvalError>,
}

/// A compiled `ConstraintTemplate`.
struct Template {
    kind: String,
    /// `data.<package>.violation`.
    entrypoint: String,
    /// Whether the Rego may read `data.inventory` (see [`reads_inventory`]); only those templates
    /// get it, because adding data makes regorus re-analyse the modules.
    referential: bool,
    /// Compiled once at load; threads evaluate with clones of it (see [`ThreadEngines`]).
    engine: regorus::Engine,
}

/// A constraint bound to its template.
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub action: Action,
    matcher: Match,
    parameters: regorus::Value,
    template: usize,
}

impl Constraint {
    /// `<ConstraintKind>/<name>`, the policy name violations carry.
    pub fn policy(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// Templates and the constraints that instantiate them.
pub struct PolicySet {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
    /// Names this set's compiled engines in the per-thread engine pools; never reused, and
    /// renewed whenever the engines change, so a pool can never serve another set's (or an
    /// outdated) engine.
    generation: u64,
}

impl Default for PolicySet {
    fn default() -> PolicySet {
        PolicySet {
            templates: Vec::new(),
            constraints: Vec::new(),
            generation: next_generation(),
        }
    }
}

/// Source of [`PolicySet`] and [`PreparedInventory`] generations.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
}

impl fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicySet")
            .field(
                "templates",
                &self.templates.iter().map(|t| &t.kind).collect::<Vec<_>>(),
            )
            .field(
                "constraints",
                &self
                    .constraints
                    .iter()
                    .map(Constraint::policy)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Collects the objects of a YAML stream with the file they came from.
struct Collector<'a> {
    file: &'a str,
    objects: Vec<(String, Node)>,
    errors: Vec<SourceError>,
}

impl ObjectSink for Collector<'_> {
    fn object(&mut self, object: Node, _: &DocumentInfo) {
        self.objects.push((self.file.to_string(), object));
    }
    fn error(&mut self, error: SourceError) {
        self.errors.push(error);
    }
}

impl PolicySet {
    /// Loads templates and constraints from `(file name, YAML or JSON text)` pairs. Documents that
    /// are neither are ignored (a policy directory may hold test suites and objects).
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<PolicySet, LoadErrors> {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in sources {
            let mut collector = Collector {
                file,
                objects: Vec::new(),
                errors: Vec::new(),
            };
            yaml::read_stream(text.as_bytes(), file, &mut collector);
            objects.extend(collector.objects);
            errors.extend(collector.errors);
        }
        if !errors.is_empty() {
            return Err(LoadErrors(errors));
        }
        PolicySet::from_nodes(objects)
    }

    /// Loads templates and constraints from parsed objects, each with the file it came from.
    pub fn from_nodes(
        objects: impl IntoIterator<Item = (String, Node)>,
    ) -> Result<PolicySet, LoadErrors> {
        let mut set = PolicySet::default();
        let mut errors = Vec::new();
        let mut constraints = Vec::new();
        let mut other_engines: Vec<String> = Vec::new();
        for (file, node) in objects {
            let api_version = node.str_at("apiVersion").unwrap_or("");
            let kind = node.str_at("kind").unwrap_or("");
            if api_version.starts_with("templates.gatekeeper.sh/") && kind == "ConstraintTemplate" {
                match load_template(&file, &node) {
                    Ok(Some(template)) => {
                        if set.templates.iter().any(|t| t.kind == template.kind) {
                            errors.push(error_at(
                                &file,
                                &node,
                                format!("a second template defines kind `{}`", template.kind),
                            ));
                        } else {
                            set.templates.push(template);
                        }
                    }
                    // A template for another engine only (CEL): its constraints are not ours.
                    Ok(None) => {
                        if let Some(kind) = template_kind(&node) {
                            other_engines.push(kind.to_string());
                        }
                    }
                    Err(error) => errors.push(error),
                }
            } else if api_version.starts_with("constraints.gatekeeper.sh/") {
                constraints.push((file, node));
            }
        }
        for (file, node) in constraints {
            let kind = node.str_at("kind").unwrap_or("");
            if other_engines.iter().any(|k| k == kind) {
                continue;
            }
            match set.load_constraint(&file, &node) {
                Ok(constraint)
                    if set
                        .constraints
                        .iter()
                        .any(|c| c.kind == constraint.kind && c.name == constraint.name) =>
                {
                    errors.push(error_at(
                        &file,
                        &node,
                        format!("a second constraint `{}`", constraint.policy()),
                    ));
                }
                Ok(constraint) => set.constraints.push(constraint),
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(LoadErrors(errors))
        }
    }

    /// Stops any single constraint evaluation after `limit` (it then reports an [`EvalError`]), so
    /// a pathological policy cannot hold a request past the caller's budget.
    pub fn set_evaluation_limit(&mut self, limit: std::time::Duration) {
        let config = regorus::utils::limits::ExecutionTimerConfig {
            limit,
            // Reading the clock at every step would cost more than most policies take.
            check_interval: std::num::NonZeroU32::new(64).unwrap_or(std::num::NonZeroU32::MIN),
        };
        for template in &mut self.templates {
            template.engine.set_execution_timer_config(config);
        }
        // Engines cloned before the change lack the limit.
        self.generation = next_generation();
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// The template kinds loaded.
    pub fn template_kinds(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.kind.as_str())
    }

    fn load_constraint(&self, file: &str, node: &Node) -> Result<Constraint, SourceError> {
        let kind = node.str_at("kind").unwrap_or("");
        let name = node.at(&["metadata", "name"]).and_then(Node::as_str);
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(error_at(
                file,
                node,
                "the constraint has no `metadata.name`",
            ));
        };
        let Some(template) = self.templates.iter().position(|t| t.kind == kind) else {
            return Err(error_at(
                file,
                node,
                format!(
                    "constraint `{kind}/{name}` has no ConstraintTemplate defining kind `{kind}`"
                ),
            ));
        };
        let spec = node.get("spec");
        let action_node = spec.and_then(|s| s.get("enforcementAction"));
        let action = match action_node.and_then(Node::as_str) {
            None | Some("deny") | Some("") => Action::Deny,
            Some("dryrun") => Action::Audit,
            Some("warn") => Action::Warn,
            Some(other) => {
                return Err(error_at(
                    file,
                    action_node.unwrap_or(node),
                    format!(
                        "unsupported enforcementAction `{other}` (expected deny, dryrun or warn)"
                    ),
                ));
            }
        };
        let match_node = spec.and_then(|s| s.get("match"));
        let match_json = match_node.map(to_json);
        let matcher = Match::from_value(match_json.as_ref())
            .map_err(|message| error_at(file, match_node.unwrap_or(node), message))?;
        let parameters = spec
            .and_then(|s| s.get("parameters"))
            .filter(|p| !p.is_null())
            .map(to_json)
            .unwrap_or_else(|| Value::Object(Default::default()));
        Ok(Constraint {
            kind: kind.to_string(),
            name: name.to_string(),
            action,
            matcher,
            parameters: regorus::Value::from(parameters),
            template,
        })
    }

    /// Judges `request` against every constraint whose `match` block selects it. Referential
    /// templates see `inventory` as `data.inventory`.
    pub fn evaluate(&self, request: &AdmissionRequest, inventory: &Inventory) -> Evaluation {
        self.evaluate_with(request, InventoryData::Live(inventory, None))
    }

    /// [`PolicySet::evaluate`] with the inventory already converted, for callers judging many
    /// requests against one inventory (the conversion is linear in the inventory's size, and
    /// the engines given it are kept for the next request).
    pub fn evaluate_prepared(
        &self,
        request: &AdmissionRequest,
        inventory: &PreparedInventory,
    ) -> Evaluation {
        self.evaluate_with(request, InventoryData::Prepared(inventory))
    }

    fn evaluate_with(&self, request: &AdmissionRequest, mut data: InventoryData<'_>) -> Evaluation {
        let mut evaluation = Evaluation::default();
        // Converted at most once per request and shared (reference-counted) by every constraint.
        let mut review: Option<regorus::Value> = None;
        let mut engines: Option<ThreadEngines> = None;
        for constraint in &self.constraints {
            if !constraint.matcher.matches(request, data.inventory()) {
                continue;
            }
            let Some(template) = self.templates.get(constraint.template) else {
                continue;
            };
            let review = review.get_or_insert_with(|| review_value(request));
            let engines = engines
                .get_or_insert_with(|| ThreadEngines::take(self.generation, self.templates.len()));
            let input = constraint_input(review, &constraint.parameters);
            let outcome = match engines.slot(constraint.template) {
                Some(slot) => run_pooled(template, slot, &mut data, input),
                // Unreachable (the pool has a slot per template); evaluate on a fresh clone.
                None => run_on(template, &mut template.engine.clone(), &mut data, input),
            };
            match outcome.and_then(|result| violations(constraint, result)) {
                Ok(violations) => evaluation.violations.extend(violations),
                Err(message) => evaluation.errors.push(EvalError {
                    policy: constraint.policy(),
                    message,
                }),
            }
        }
        if let Some(engines) = engines {
            engines.give_back();
        }
        evaluation
    }
}

/// Where a referential template's `data.inventory` comes from.
enum InventoryData<'a> {
    /// Converted on first need, once per request; engines given it are not kept, since nothing
    /// tells whether the next request's inventory is the same.
    Live(&'a Inventory, Option<regorus::Value>),
    /// Converted once; engines given it are kept, labelled with its generation.
    Prepared(&'a PreparedInventory),
}

impl InventoryData<'_> {
    fn inventory(&self) -> &Inventory {
        match self {
            InventoryData::Live(inventory, _) => inventory,
            InventoryData::Prepared(prepared) => &prepared.inventory,
        }
    }
}

/// The engines one thread evaluates a policy set with: a clone of each template's prepared
/// engine, made on the thread's first request and reused by its later ones. Reusing costs nothing
/// per request (regorus resets an engine's evaluation state at every `eval_rule`), where cloning
/// and dropping an engine per constraint was a good part of an evaluation's cost. A slot is
/// emptied while its engine evaluates and refilled only after a successful evaluation, so an
/// engine an error (a timeout) left mid-evaluation is never reused.
struct ThreadEngines {
    /// [`PolicySet::generation`] of the set the engines were cloned from.
    set: u64,
    engines: Vec<Option<PooledEngine>>,
}

struct PooledEngine {
    engine: regorus::Engine,
    /// The [`PreparedInventory::generation`] merged into the engine's data, if any.
    inventory: Option<u64>,
}

/// Policy sets a thread keeps engines for: the live set plus a few others (a reload swaps sets,
/// tests and scans build several); the least recently used is dropped beyond that.
const SETS_PER_THREAD: usize = 4;

thread_local! {
    static THREAD_ENGINES: RefCell<Vec<ThreadEngines>> = const { RefCell::new(Vec::new()) };
}

impl ThreadEngines {
    /// Takes this thread's engines for set `set` out of the pool (so a nested evaluation on the
    /// same thread, were there one, would start its own), or empty slots when there are none.
    fn take(set: u64, templates: usize) -> ThreadEngines {
        let pooled = THREAD_ENGINES
            .try_with(|pool| {
                let mut pool = pool.try_borrow_mut().ok()?;
                let at = pool.iter().position(|engines| engines.set == set)?;
                Some(pool.remove(at))
            })
            .ok()
            .flatten();
        match pooled {
            Some(engines) if engines.engines.len() == templates => engines,
            _ => ThreadEngines {
                set,
                engines: (0..templates).map(|_| None).collect(),
            },
        }
    }

    fn slot(&mut self, template: usize) -> Option<&mut Option<PooledEngine>> {
        self.engines.get_mut(template)
    }

    /// Returns the engines to this thread's pool as its most recently used set.
    fn give_back(self) {
        // During thread teardown the pool may be gone; the engines are then simply dropped.
        let _ = THREAD_ENGINES.try_with(|pool| {
            if let Ok(mut pool) = pool.try_borrow_mut() {
                pool.retain(|engines| engines.set != self.set);
                if pool.len() >= SETS_PER_THREAD {
                    pool.remove(0);
                }
                pool.push(self);
            }
        });
    }
}

/// `{"review": …, "parameters": …}`: two reference-counted handles, no copy of either.
fn constraint_input(review: &regorus::Value, parameters: &regorus::Value) -> regorus::Value {
    let mut fields = std::collections::BTreeMap::new();
    fields.insert(regorus::Value::from("review"), review.clone());
    fields.insert(regorus::Value::from("parameters"), parameters.clone());
    regorus::Value::from(fields)
}

/// Evaluates `template` with this thread's engine for it, cloning the template's engine when the
/// slot is empty or holds an engine given another inventory.
fn run_pooled(
    template: &Template,
    slot: &mut Option<PooledEngine>,
    data: &mut InventoryData<'_>,
    input: regorus::Value,
) -> Result<regorus::Value, String> {
    let wanted = match (template.referential, &*data) {
        (false, _) => None,
        (true, InventoryData::Prepared(prepared)) => Some(prepared.generation),
        (true, InventoryData::Live(..)) => {
            // A live inventory may change between requests: evaluate on a temporary clone.
            return run_on(template, &mut template.engine.clone(), data, input);
        }
    };
    let mut pooled = match slot.take() {
        Some(pooled) if pooled.inventory == wanted => pooled,
        _ => {
            let mut engine = template.engine.clone();
            if let InventoryData::Prepared(prepared) = data
                && template.referential
            {
                engine
                    .add_data(prepared.data.clone())
                    .map_err(|e| e.to_string())?;
            }
            PooledEngine {
                engine,
                inventory: wanted,
            }
        }
    };
    let result = eval_violation(template, &mut pooled.engine, input)?;
    *slot = Some(pooled);
    Ok(result)
}

/// Evaluates `template` on `engine`, first giving a referential template a live inventory.
fn run_on(
    template: &Template,
    engine: &mut regorus::Engine,
    data: &mut InventoryData<'_>,
    input: regorus::Value,
) -> Result<regorus::Value, String> {
    if template.referential {
        let value = match data {
            InventoryData::Live(inventory, converted) => converted
                .get_or_insert_with(|| inventory_data(inventory))
                .clone(),
            InventoryData::Prepared(prepared) => prepared.data.clone(),
        };
        engine.add_data(value).map_err(|e| e.to_string())?;
    }
    eval_violation(template, engine, input)
}

fn eval_violation(
    template: &Template,
    engine: &mut regorus::Engine,
    input: regorus::Value,
) -> Result<regorus::Value, String> {
    engine.set_input(input);
    let result = engine
        .eval_rule(template.entrypoint.clone())
        .map_err(|e| e.to_string());
    // The engine outlives the request in the thread's pool: let go of the request now.
    engine.set_input(regorus::Value::Null);
    result
}

/// `input.review`: the request as the API server sent it, except that for a DELETE Gatekeeper's
/// webhook copies `oldObject` into `object` (which the API server leaves null), so policies
/// written against `input.review.object` see the object being deleted.
fn review_value(request: &AdmissionRequest) -> regorus::Value {
    // Everything but the objects goes through serde (so the field names stay those of
    // `AdmissionRequest`'s serialization); the objects, nearly all of the request, are converted
    // straight from the request instead of from a `serde_json::Value` copy. The destructuring
    // names every field, so a new one fails to compile here instead of going missing.
    let AdmissionRequest {
        uid,
        kind,
        resource,
        sub_resource,
        request_kind,
        request_resource,
        request_sub_resource,
        name,
        namespace,
        operation,
        user_info,
        object,
        old_object,
        dry_run,
        options,
    } = request;
    let shell = AdmissionRequest {
        uid: uid.clone(),
        kind: kind.clone(),
        resource: resource.clone(),
        sub_resource: sub_resource.clone(),
        request_kind: request_kind.clone(),
        request_resource: request_resource.clone(),
        request_sub_resource: request_sub_resource.clone(),
        name: name.clone(),
        namespace: namespace.clone(),
        operation: *operation,
        user_info: user_info.clone(),
        object: None,
        old_object: None,
        dry_run: *dry_run,
        options: options.clone(),
    };
    let mut review = serde_json::to_value(&shell)
        .map(|shell| rego_value(&shell))
        .unwrap_or(regorus::Value::Null);
    // As serialized: present when `Some` (`null` included), absent when `None`.
    let object = match (operation, old_object) {
        (Operation::Delete, Some(old)) if !old.is_null() => Some(old),
        _ => object.as_ref(),
    };
    if let Ok(fields) = review.as_object_mut() {
        if let Some(object) = object {
            fields.insert(regorus::Value::from("object"), rego_value(object));
        }
        if let Some(old) = old_object {
            fields.insert(regorus::Value::from("oldObject"), rego_value(old));
        }
    }
    review
}

/// `value` as a regorus value, as `regorus::Value::from(value.clone())` converts it but without
/// the copy.
fn rego_value(value: &Value) -> regorus::Value {
    match value {
        Value::Null => regorus::Value::Null,
        Value::Bool(b) => regorus::Value::Bool(*b),
        // The order serde hands numbers to regorus: non-negative integers, negative integers,
        // floats.
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                regorus::Value::from(u)
            } else if let Some(i) = n.as_i64() {
                regorus::Value::from(i)
            } else if let Some(f) = n.as_f64() {
                regorus::Value::from(f)
            } else {
                regorus::Value::from(value.clone())
            }
        }
        Value::String(s) => regorus::Value::from(s.as_str()),
        Value::Array(items) => {
            regorus::Value::from(items.iter().map(rego_value).collect::<Vec<_>>())
        }
        // Kept in the map regorus builds objects in: `Value::from(map)` would copy it into a
        // compact slice, a second allocation and move of every field of the request, which
        // policies read a handful of fields of and then drop.
        Value::Object(fields) => {
            regorus::Value::Object(regorus::Rc::new(regorus::value::Object::from(
                fields
                    .iter()
                    .map(|(key, value)| (regorus::Value::from(key.as_str()), rego_value(value)))
                    .collect::<std::collections::BTreeMap<_, _>>(),
            )))
        }
    }
}

/// An inventory converted once for many evaluations.
pub struct PreparedInventory {
    inventory: Inventory,
    data: regorus::Value,
    /// Labels the engines given this inventory's data (see [`PooledEngine::inventory`]).
    generation: u64,
}

impl PreparedInventory {
    pub fn new(inventory: Inventory) -> PreparedInventory {
        let data = inventory_data(&inventory);
        PreparedInventory {
            inventory,
            data,
            generation: next_generation(),
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }
}

/// `{"inventory": …}`, merged into `data`.
fn inventory_data(inventory: &Inventory) -> regorus::Value {
    let mut data = serde_json::Map::new();
    data.insert("inventory".into(), inventory.to_value());
    regorus::Value::from(Value::Object(data))
}

/// The violations a `violation` rule's value reports for `constraint`.
fn violations(constraint: &Constraint, result: regorus::Value) -> Result<Vec<Violation>, String> {
    let results: Vec<regorus::Value> = match result {
        regorus::Value::Set(items) => items.iter().cloned().collect(),
        regorus::Value::Array(items) => items.iter().cloned().collect(),
        regorus::Value::Undefined => Vec::new(),
        other => return Err(format!("`violation` must be a set, got {other}")),
    };
    let mut violations = Vec::with_capacity(results.len());
    for result in results {
        let json = serde_json::to_value(&result).unwrap_or(Value::Null);
        let message = match json.get("msg") {
            Some(Value::String(msg)) => msg.clone(),
            _ => {
                return Err(format!(
                    "a violation must be an object with a string `msg`, got {json}"
                ));
            }
        };
        violations.push(Violation {
            policy: constraint.policy(),
            message,
            details: json.get("details").filter(|d| !d.is_null()).cloned(),
            action: constraint.action,
            reason: None,
        });
    }
    Ok(violations)
}

/// Whether Rego `text` may read `data.inventory`, conservatively: it names `inventory` anywhere
/// (`data.inventory`, `data["inventory"]`, an import of it, a comment), or uses `data` other than
/// through a static `data.<name>` path (`data[key]`, `x := data`), which could reach the
/// inventory by a computed key. A false positive only costs the inventory conversion; a false
/// negative would hide the inventory from a policy.
fn reads_inventory(text: &str) -> bool {
    if text.contains("inventory") {
        return true;
    }
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|rest| rest.find("data")) {
        let start = from + at;
        let end = start + "data".len();
        from = end;
        let before = start.checked_sub(1).and_then(|i| bytes.get(i)).copied();
        let after = bytes.get(end).copied();
        // Part of a longer name, or a field of something else (`input.review.object.data`).
        if before.is_some_and(|b| is_word(b) || b == b'.') || after.is_some_and(is_word) {
            continue;
        }
        let next = text
            .get(end..)
            .and_then(|rest| rest.trim_start_matches([' ', '\t']).bytes().next());
        let static_path = next == Some(b'.')
            && text
                .get(end..)
                .map(|rest| rest.trim_start_matches([' ', '\t']))
                .and_then(|rest| rest.get(1..))
                .and_then(|rest| rest.bytes().next())
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        if !static_path {
            return true;
        }
    }
    false
}

fn to_json(node: &Node) -> Value {
    serde_json::to_value(node).unwrap_or(Value::Null)
}

fn error_at(file: &str, node: &Node, message: impl Into<String>) -> SourceError {
    SourceError {
        file: file.to_string(),
        line: node.mark.is_known().then_some(node.mark.line),
        column: node.mark.is_known().then_some(node.mark.column),
        message: message.into(),
    }
}

/// The Rego source of a template's admission target: the `engine: Rego` entry of `code`, whose
/// `source.version: "v1"` selects Rego v1, else the legacy `rego`/`libs` fields (Rego v0).
struct RegoSource<'a> {
    rego: &'a Node,
    libs: Vec<&'a Node>,
    v1: bool,
}

fn rego_source<'a>(target: &'a Node) -> Option<RegoSource<'a>> {
    let code_entry = target.get("code").and_then(|code| {
        code.items()
            .iter()
            .find(|entry| entry.str_at("engine") == Some("Rego"))
    });
    if let Some(source) = code_entry.and_then(|entry| entry.get("source"))
        && let Some(rego) = source.get("rego")
    {
        return Some(RegoSource {
            rego,
            libs: source
                .get("libs")
                .map(|l| l.items().iter().collect())
                .unwrap_or_default(),
            v1: source.str_at("version") == Some("v1"),
        });
    }
    target.get("rego").map(|rego| RegoSource {
        rego,
        libs: target
            .get("libs")
            .map(|l| l.items().iter().collect())
            .unwrap_or_default(),
        // Gatekeeper (3.19+) accepts Rego v1 only under `code`; legacy `rego` is always v0 (where
        // `import rego.v1` still opts a module into v1 keywords, as in OPA).
        v1: false,
    })
}

fn template_kind(node: &Node) -> Option<&str> {
    node.at(&["spec", "crd", "spec", "names", "kind"])
        .and_then(Node::as_str)
        .filter(|k| !k.is_empty())
}

/// Compiles a template; `Ok(None)` when the CEL engine owns it (it has `K8sNativeValidation` code).
fn load_template(file: &str, node: &Node) -> Result<Option<Template>, SourceError> {
    let Some(kind) = template_kind(node) else {
        return Err(error_at(
            file,
            node,
            "the ConstraintTemplate has no `spec.crd.spec.names.kind`",
        ));
    };
    let targets = node
        .at(&["spec", "targets"])
        .map(Node::items)
        .unwrap_or(&[]);
    let Some(target) = targets.first() else {
        return Err(error_at(
            file,
            node,
            format!("ConstraintTemplate `{kind}` has no `spec.targets`"),
        ));
    };
    // A template with both engines is evaluated once, by CEL: Gatekeeper's constraint framework
    // hands a template to the first driver that supports one of its engines, and registers its
    // K8sNativeValidation driver before Rego (CEL in templates is on by default since 3.17).
    // Evaluating both would report every violation twice.
    let has_cel = target.get("code").is_some_and(|code| {
        code.items()
            .iter()
            .any(|e| e.str_at("engine") == Some("K8sNativeValidation"))
    });
    if has_cel {
        return Ok(None);
    }
    let Some(source) = rego_source(target) else {
        if target.get("code").is_some() {
            return Ok(None);
        }
        return Err(error_at(
            file,
            target,
            format!("ConstraintTemplate `{kind}` has no Rego (`spec.targets[0].rego`)"),
        ));
    };
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(!source.v1);
    engine
        .add_extension("sprintf".into(), 2, Box::new(compat::sprintf))
        .map_err(|e| error_at(file, node, e.to_string()))?;
    engine
        .add_extension("regex.match".into(), 2, Box::new(regex_match::extension()))
        .map_err(|e| error_at(file, node, e.to_string()))?;
    let mut package = None;
    let mut referential = false;
    let modules = std::iter::once(source.rego).chain(source.libs.iter().copied());
    for (index, module) in modules.enumerate() {
        let Some(text) = module.as_str() else {
            return Err(error_at(file, module, "Rego source must be a string"));
        };
        referential |= reads_inventory(text);
        let path = format!("{file}#{index}");
        match engine.add_policy(path.clone(), compat::split_function_bodies(text)) {
            Ok(name) if index == 0 => package = Some(name),
            Ok(_) => {}
            Err(e) => return Err(rego_error(file, module, &path, &e.to_string())),
        }
    }
    let Some(package) = package else {
        return Err(error_at(file, source.rego, "the template has no Rego"));
    };
    // `add_policy` answers `data.<package>`.
    let entrypoint = format!("{package}.violation");
    if !engine
        .has_declared_rule_rooted_at(&format!("{file}#0"), "violation")
        .unwrap_or(false)
    {
        return Err(error_at(
            file,
            source.rego,
            format!("ConstraintTemplate `{kind}`: the Rego has no `violation` rule"),
        ));
    }
    // Compiles the modules now, so errors surface at load and evaluations start from a prepared
    // engine.
    if let Err(e) = engine.eval_query("true".into(), false) {
        let error = e.to_string();
        let modules = std::iter::once(source.rego).chain(source.libs.iter().copied());
        let (path, module) = modules
            .enumerate()
            .map(|(index, module)| (format!("{file}#{index}"), module))
            .find(|(path, _)| error.contains(&format!("--> {path}:")))
            .unwrap_or_else(|| (format!("{file}#0"), source.rego));
        return Err(rego_error(file, module, &path, &error));
    }
    Ok(Some(Template {
        kind: kind.to_string(),
        entrypoint,
        referential,
        engine,
    }))
}

/// A regorus error (`--> <path>:<row>:<col>` then the message) placed in the YAML file: a block
/// scalar's mark is its first content line and column, where row 1, column 1 of the Rego sits.
/// (For a quoted scalar the rows do not map onto lines; the position is then approximate.)
fn rego_error(file: &str, module: &Node, path: &str, error: &str) -> SourceError {
    let marker = format!("--> {path}:");
    let position = error.find(&marker).and_then(|at| {
        let rest = error.get(at + marker.len()..)?;
        let mut numbers = rest.split(|c: char| !c.is_ascii_digit());
        let row: u32 = numbers.next()?.parse().ok()?;
        let col: u32 = numbers.next()?.parse().ok()?;
        Some((row, col))
    });
    let message = error
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with("error:"))
        .map(|line| {
            line.trim_start()
                .trim_start_matches("error:")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| error.trim().to_string());
    let (line, column) = match (position, module.mark.is_known()) {
        (Some((row, col)), true) => (
            Some((module.mark.line + row).saturating_sub(1)),
            Some((module.mark.column + col).saturating_sub(1)),
        ),
        _ => (module.mark.is_known().then_some(module.mark.line), None),
    };
    SourceError {
        file: file.to_string(),
        line,
        column,
        message: format!("invalid Rego: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The conversion this crate used before converting objects directly: `input.review` must not
    /// change by a bit.
    fn review_through_serde(request: &AdmissionRequest) -> regorus::Value {
        let mut review = serde_json::to_value(request).unwrap_or(Value::Null);
        if request.operation == Operation::Delete
            && let Some(old) = request.old_object.as_ref().filter(|o| !o.is_null())
            && let Some(fields) = review.as_object_mut()
        {
            fields.insert("object".into(), old.clone());
        }
        regorus::Value::from(review)
    }

    #[test]
    fn review_matches_the_serde_conversion() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"replicas": 3, "ratio": 0.25, "offset": -7, "big": u64::MAX,
                "flags": [true, false, null], "empty": {}, "none": [],
                "template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}});
        let create = AdmissionRequest::for_object(object.clone());
        let mut update = create.clone();
        update.operation = Operation::Update;
        update.old_object = Some(json!({"kind": "Deployment", "spec": {"replicas": 1}}));
        update.dry_run = Some(true);
        update.user_info.username = "alice".into();
        update.user_info.groups = vec!["system:authenticated".into()];
        let mut delete = create.clone();
        delete.operation = Operation::Delete;
        delete.old_object = delete.object.take();
        let mut delete_with_null = delete.clone();
        delete_with_null.object = Some(Value::Null);
        let mut delete_without_old = AdmissionRequest::for_object(object);
        delete_without_old.operation = Operation::Delete;
        delete_without_old.object = Some(Value::Null);
        for request in [
            create,
            update,
            delete,
            delete_with_null,
            delete_without_old,
            AdmissionRequest::default(),
        ] {
            assert_eq!(
                review_value(&request),
                review_through_serde(&request),
                "{request:?}"
            );
        }
    }

    #[test]
    fn delete_reviews_show_the_old_object() {
        let mut delete = AdmissionRequest::for_object(json!({"kind": "Pod",
            "metadata": {"name": "web"}}));
        delete.operation = Operation::Delete;
        delete.old_object = delete.object.take();
        let review = review_value(&delete);
        assert_eq!(
            review["object"]["metadata"]["name"],
            regorus::Value::from("web")
        );
        assert_eq!(review["object"], review["oldObject"]);
    }

    #[test]
    fn inventory_readers_are_found_conservatively() {
        for text in [
            "x := data.inventory.cluster",
            "x := data[\"inventory\"]",
            "import data.inventory as inv",
            "# reads the inventory",
            "import data\nx := data.cluster",
            "x := data[key]",
            "x := data [key]",
            "all := data",
            "f(x) := y if { y := data }",
        ] {
            assert!(reads_inventory(text), "{text}");
        }
        for text in [
            "import data.lib.exclude_update.is_update",
            "x := data.lib.workload.input_containers",
            "x := input.review.object.data",
            "metadata := input.review.object.metadata",
            "database := \"pg\"",
            "",
        ] {
            assert!(!reads_inventory(text), "{text}");
        }
    }
}
