//! CEL policies for Palisade. This crate owns loading Kubernetes `ValidatingAdmissionPolicy` and
//! `ValidatingAdmissionPolicyBinding` objects, and Gatekeeper `ConstraintTemplate`s whose engine is
//! `K8sNativeValidation` with their constraints — compiling every CEL expression once and rejecting
//! broken ones with file, line and field path — and evaluating them for an [`AdmissionRequest`]
//! against an [`Inventory`] with the CEL environment the API server gives (`object`, `oldObject`,
//! `request`, `params`, `namespaceObject`, lazily evaluated `variables`, `authorizer` (answered
//! from the RBAC objects of the inventory), Gatekeeper's
//! `variables.params` and `variables.anyObject`, and the Kubernetes CEL libraries — quantity,
//! IP/CIDR, URL, regex, lists, sets, strings, semver, format — through `kube-cel`), returning
//! [`Violation`]s.
//!
//! It must not do I/O beyond parsing the text it is handed, must not decide what to answer the API
//! server (the admission controller maps the [`Action`](palisade_policy::Action)s and owns time
//! budgets), must not evaluate Rego (Rego-only templates and their constraints are skipped), and
//! must not panic or overflow the stack on any policy or request: expression size and nesting are
//! bounded at load, parsing runs on a large-stack thread, evaluation switches to a larger stack when
//! the caller's is small, and a panic inside the CEL libraries becomes an evaluation error.
//!
//! Known differences from the API server: `authorizer` consults RBAC only (no Node or webhook
//! authorizers; its `reason()` says so when it denies); there is no CEL type checking beyond
//! undeclared identifiers and variables (a typo in a field name shows up at evaluation, as an
//! error that follows `failurePolicy`); no cost limits; `matchPolicy: Equivalent` is treated as
//! `Exact`; a variable an expression mentions is computed before the expression runs (its failure
//! is reported only if the expression actually reads it, as in Kubernetes, but the work is done
//! either way).

mod authorizer;
mod convert;
mod error;
mod eval;
mod expr;
mod gatekeeper;
mod lazy;
mod load;
mod matching;

use std::cell::OnceCell;
use std::collections::BTreeMap;

use palisade_core::SourceError;
use palisade_kube::yaml::{self, DocumentInfo, ObjectSink};
use palisade_policy::{AdmissionRequest, Inventory};

pub use error::{LoadError, LoadErrors};
pub use eval::{AuditAnnotation, Evaluation};
pub use gatekeeper::{Constraint, TEMPLATE_KIND, Template};
pub use load::{
    BINDING_KIND, Binding, FailurePolicy, POLICY_KIND, ParamKind, ParamRef,
    ParameterNotFoundAction, Policy,
};
pub use matching::{MatchResources, ResourceRule};
pub use palisade_policy::Violation;

/// A set of policies and bindings, ready to evaluate. Loading is atomic per file: a file with any
/// error adds nothing, so a reload with a broken file leaves the last good set usable.
pub struct PolicySet {
    /// The CEL functions (standard library plus the Kubernetes libraries), registered once; every
    /// evaluation runs in a child scope of it.
    functions: cel::Context<'static, 'static>,
    policies: BTreeMap<String, Policy>,
    bindings: BTreeMap<String, Binding>,
    /// Gatekeeper templates with CEL code, by the constraint kind they define.
    templates: BTreeMap<String, Template>,
    /// Gatekeeper constraints by (kind, name).
    constraints: BTreeMap<(String, String), Constraint>,
}

impl Default for PolicySet {
    fn default() -> PolicySet {
        PolicySet::new()
    }
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("policies", &self.policies.keys().collect::<Vec<_>>())
            .field("bindings", &self.bindings.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PolicySet {
    pub fn new() -> PolicySet {
        PolicySet {
            functions: expr::functions(),
            policies: BTreeMap::new(),
            bindings: BTreeMap::new(),
            templates: BTreeMap::new(),
            constraints: BTreeMap::new(),
        }
    }

    /// Loads every `ValidatingAdmissionPolicy` and `ValidatingAdmissionPolicyBinding`, Gatekeeper
    /// `ConstraintTemplate` with `K8sNativeValidation` code and Gatekeeper constraint of a YAML or
    /// JSON stream (`file` names it in errors); other kinds (and Rego-only templates) are ignored. A policy or binding with
    /// the name of one already loaded replaces it. Returns how many objects were loaded.
    pub fn load(&mut self, file: &str, text: &str) -> Result<usize, LoadErrors> {
        struct Collect<'f> {
            file: &'f str,
            loaded: Vec<load::Loaded>,
            errors: Vec<LoadError>,
        }
        impl ObjectSink for Collect<'_> {
            fn object(&mut self, object: palisade_core::Node, _: &DocumentInfo) {
                let loaded = load::load_object(self.file, &object, &mut self.errors);
                self.loaded.push(loaded);
            }
            fn error(&mut self, error: SourceError) {
                self.errors.push(LoadError {
                    file: error.file,
                    line: error.line,
                    object: String::new(),
                    field: String::new(),
                    message: error.message,
                });
            }
        }
        let mut sink = Collect {
            file,
            loaded: Vec::new(),
            errors: Vec::new(),
        };
        yaml::read_stream(text.as_bytes(), file, &mut sink);
        if !sink.errors.is_empty() {
            return Err(LoadErrors(sink.errors));
        }
        let mut count = 0;
        for loaded in sink.loaded {
            match loaded {
                load::Loaded::Policy(policy) => {
                    self.policies.insert(policy.name.clone(), *policy);
                    count += 1;
                }
                load::Loaded::Binding(binding) => {
                    self.bindings.insert(binding.name.clone(), *binding);
                    count += 1;
                }
                load::Loaded::Template(template) => {
                    self.templates
                        .insert(template.constraint_kind.clone(), *template);
                    count += 1;
                }
                load::Loaded::Constraint(constraint) => {
                    let key = (constraint.kind.clone(), constraint.name.clone());
                    self.constraints.insert(key, *constraint);
                    count += 1;
                }
                load::Loaded::Other => {}
            }
        }
        Ok(count)
    }

    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values()
    }

    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.values()
    }

    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.templates.values()
    }

    pub fn constraints(&self) -> impl Iterator<Item = &Constraint> {
        self.constraints.values()
    }

    /// Bindings whose policy is not loaded. The API server accepts them and they do nothing; a
    /// user loading a directory most likely made a mistake, so callers may want to warn.
    pub fn unbound(&self) -> impl Iterator<Item = &Binding> {
        self.bindings
            .values()
            .filter(|b| !self.policies.contains_key(&b.policy_name))
    }

    /// Evaluates every binding for `request`; `inventory` supplies namespaces (for
    /// `namespaceObject` and namespace selectors) and parameter objects.
    pub fn evaluate(&self, request: &AdmissionRequest, inventory: &Inventory) -> Evaluation {
        stacker::maybe_grow(expr::EVALUATION_RED_ZONE, expr::EVALUATION_STACK, || {
            self.evaluate_here(request, inventory)
        })
    }

    fn evaluate_here(&self, request: &AdmissionRequest, inventory: &Inventory) -> Evaluation {
        let mut out = Evaluation::default();
        let attributes = OnceCell::new();
        let values = OnceCell::new();
        let environment = eval::Environment {
            request,
            inventory,
            inventory_json: OnceCell::new(),
            rbac: OnceCell::new(),
        };
        for binding in self.bindings.values() {
            let Some(policy) = self.policies.get(&binding.policy_name) else {
                continue;
            };
            let values = values.get_or_init(|| {
                eval::RequestValues::new(
                    &self.functions,
                    request,
                    attributes.get_or_init(|| eval::request_attributes(request)),
                    inventory,
                )
            });
            environment.evaluate_binding(policy, binding, values, &mut out);
        }
        for constraint in self.constraints.values() {
            // Constraints of Rego templates are the Rego engine's.
            let Some(template) = self.templates.get(&constraint.kind) else {
                continue;
            };
            let values = values.get_or_init(|| {
                eval::RequestValues::new(
                    &self.functions,
                    request,
                    attributes.get_or_init(|| eval::request_attributes(request)),
                    inventory,
                )
            });
            environment.evaluate_constraint(template, constraint, values, &mut out);
        }
        out
    }
}
