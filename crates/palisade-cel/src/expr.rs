//! One compiled CEL expression of a policy, with what it reads from the environment worked out once
//! at load: which policy variables it needs (so they are evaluated only when used, then memoized) and
//! whether it calls `authorizer` (which Palisade cannot answer).

use std::collections::BTreeSet;

use cel::parser::Parser;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::common::value::{CowVal, Val};
use cel::extractors::This;
use cel::{ResolveResult, Value};
use kube_cel::KubeCelExt;
use std::collections::HashMap;

/// The top-level names Kubernetes declares for ValidatingAdmissionPolicy expressions.
pub(crate) const ENVIRONMENT: &[&str] = &[
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
    "variables",
    "authorizer",
];

/// Identifiers that are not variables but still parse as identifiers: type names (`type(x) == int`)
/// and the receivers of namespaced library functions (`sets.contains`, `math.greatest`,
/// `optional.of`, `strings.quote`, `base64.encode`, `lists.range`).
const BUILTIN_IDENTIFIERS: &[&str] = &[
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "optional",
    "sets",
    "math",
    "strings",
    "base64",
    "lists",
    "dyn",
];

/// Limits that keep parsing and evaluation within bounded stack; real policies stay far below.
const MAX_EXPRESSION_BYTES: usize = 64 * 1024;
const MAX_BRACKET_DEPTH: usize = 64;
const MAX_TREE_DEPTH: usize = 128;
const PARSE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The cel interpreter uses up to ~40 KiB of stack per tree level in debug builds (far less in
/// release), so an expression of the maximum depth needs a few MiB: more than the 2 MiB an async
/// runtime or thread pool worker gets. Evaluation switches to a fresh stack segment when less than
/// this is left; [`PolicySet::evaluate`](crate::PolicySet::evaluate) does it once per request so
/// the expressions inside it do not each pay for it.
pub(crate) const EVALUATION_RED_ZONE: usize = 16 * 1024 * 1024;
pub(crate) const EVALUATION_STACK: usize = 32 * 1024 * 1024;

pub(crate) struct Expression {
    /// The expression as written in the policy.
    pub source: String,
    parsed: IdedExpr,
    /// Indices (into the policy's `spec.variables`) of the variables the expression reads.
    pub variables: Vec<usize>,
    pub uses_authorizer: bool,
    /// Whether the expression uses `variables` as a whole value (`size(variables)`), so it needs
    /// the map; otherwise every `variables.<name>` was rewritten to [`variable_identifier`].
    pub whole_variables: bool,
}

impl Expression {
    /// Parses `source`; `variables` are the names it may read as `variables.<name>` (for a
    /// variable's own expression, only the ones declared before it, as Kubernetes requires).
    pub fn compile(source: &str, variables: &[String]) -> Result<Expression, String> {
        if source.trim().is_empty() {
            return Err("the expression is empty".into());
        }
        if source.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "the expression is {} bytes long; at most {MAX_EXPRESSION_BYTES} are accepted",
                source.len()
            ));
        }
        if bracket_depth(source) > MAX_BRACKET_DEPTH {
            return Err(format!(
                "the expression nests brackets more than {MAX_BRACKET_DEPTH} levels deep"
            ));
        }
        // The CEL parser recurses several frames per nesting level and per operator in a chain,
        // so a hostile expression can exhaust a normal thread stack. Parsing runs on a thread with
        // a large stack, and the tree it yields is then bounded in depth, which bounds the
        // recursion of every later evaluation on ordinary (admission worker) threads.
        let source_owned = source.to_string();
        let declared = variables.to_vec();
        std::thread::Builder::new()
            .name("cel-parse".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn(move || Expression::compile_here(&source_owned, &declared))
            .map_err(|e| format!("cannot start the CEL parser: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("the CEL parser failed on this expression".into()))
    }

    fn compile_here(source: &str, variables: &[String]) -> Result<Expression, String> {
        // Kubernetes enables CEL's optional syntax (`object.?spec.?replicas.orValue(1)`).
        let parsed = Parser::new()
            .enable_optional_syntax(true)
            .parse(source)
            .map_err(|e| e.to_string())?;
        let depth = tree_depth(&parsed);
        if depth > MAX_TREE_DEPTH {
            return Err(format!(
                "the expression is too deeply nested ({depth} levels; at most {MAX_TREE_DEPTH})"
            ));
        }
        let mut parsed = parsed;
        rewrite_calls(&mut parsed);
        let mut references = References::default();
        references.walk(&parsed, &mut Vec::new());
        if let Some(unknown) = references.unknown.iter().next() {
            return Err(format!(
                "undeclared reference to `{unknown}` (expressions can use {})",
                ENVIRONMENT.join(", ")
            ));
        }
        let mut indices = Vec::new();
        for name in &references.variables {
            match variables.iter().position(|v| v == name) {
                Some(index) => indices.push(index),
                None => {
                    return Err(format!(
                        "`variables.{name}` is not declared before this expression in spec.variables"
                    ));
                }
            }
        }
        if references.whole_variables {
            indices = (0..variables.len()).collect();
        } else {
            variables_as_identifiers(&mut parsed, &mut Vec::new());
        }
        Ok(Expression {
            source: source.to_string(),
            parsed,
            variables: indices,
            uses_authorizer: references.authorizer,
            whole_variables: references.whole_variables,
        })
    }

    pub fn execute(&self, context: &cel::Context) -> Result<cel::Value, cel::ExecutionError> {
        self.guarded(|| context.resolve(&self.parsed))
    }

    /// Evaluates to cel's own representation, for values that go back into a context (variables):
    /// converting a map into [`cel::Value`] and back would copy it twice.
    pub fn execute_val<'v>(
        &self,
        context: &cel::Context<'_, 'v>,
    ) -> Result<Box<dyn Val + 'v>, cel::ExecutionError> {
        self.guarded(|| cel::Value::resolve_val(&self.parsed, context).map(CowVal::into_owned))
    }

    fn guarded<T>(
        &self,
        evaluate: impl FnOnce() -> Result<T, cel::ExecutionError>,
    ) -> Result<T, cel::ExecutionError> {
        // A panic inside the CEL libraries must not take the admission server down: it becomes an
        // evaluation error, which then follows the policy's failurePolicy.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stacker::maybe_grow(EVALUATION_RED_ZONE, EVALUATION_STACK, evaluate)
        }))
        .unwrap_or_else(|_| {
            Err(cel::ExecutionError::function_error(
                "evaluation",
                "the CEL interpreter failed on this expression",
            ))
        })
    }
}

/// The identifier `variables.<name>` is rewritten to. Each variable then lives in the evaluation
/// scope on its own, converted into cel's representation once when first computed, instead of a
/// `variables` map rebuilt (and deeply converted) for every expression that reads it.
pub(crate) fn variable_identifier(name: &str) -> String {
    format!("@variables.{name}")
}

/// Rewrites `variables.<name>` to the identifier [`variable_identifier`] and `has(variables.<name>)`
/// to `true` (a declared variable is always present, as in Kubernetes' typed environment).
fn variables_as_identifiers(expr: &mut IdedExpr, bound: &mut Vec<String>) {
    match &mut expr.expr {
        Expr::Select(select) => {
            if matches!(&select.operand.expr, Expr::Ident(name) if name == "variables")
                && !bound.iter().any(|b| b == "variables")
            {
                expr.expr = if select.test {
                    Expr::Literal(cel::common::ast::LiteralValue::Boolean(true.into()))
                } else {
                    Expr::Ident(variable_identifier(&select.field))
                };
            } else {
                variables_as_identifiers(&mut select.operand, bound);
            }
        }
        Expr::Call(call) => {
            if let Some(target) = call.target.as_mut() {
                variables_as_identifiers(target, bound);
            }
            for arg in &mut call.args {
                variables_as_identifiers(arg, bound);
            }
        }
        Expr::Comprehension(comprehension) => {
            variables_as_identifiers(&mut comprehension.iter_range, bound);
            variables_as_identifiers(&mut comprehension.accu_init, bound);
            let depth = bound.len();
            bound.push(comprehension.iter_var.clone());
            bound.extend(comprehension.iter_var2.clone());
            bound.push(comprehension.accu_var.clone());
            variables_as_identifiers(&mut comprehension.loop_cond, bound);
            variables_as_identifiers(&mut comprehension.loop_step, bound);
            variables_as_identifiers(&mut comprehension.result, bound);
            bound.truncate(depth);
        }
        Expr::List(list) => {
            for element in &mut list.elements {
                variables_as_identifiers(element, bound);
            }
        }
        Expr::Map(map) => {
            for entry in &mut map.entries {
                entry_variables_as_identifiers(&mut entry.expr, bound);
            }
        }
        Expr::Struct(object) => {
            for entry in &mut object.entries {
                entry_variables_as_identifiers(&mut entry.expr, bound);
            }
        }
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
}

fn entry_variables_as_identifiers(entry: &mut EntryExpr, bound: &mut Vec<String>) {
    match entry {
        EntryExpr::StructField(field) => variables_as_identifiers(&mut field.value, bound),
        EntryExpr::MapEntry(entry) => {
            variables_as_identifiers(&mut entry.key, bound);
            variables_as_identifiers(&mut entry.value, bound);
        }
    }
}

/// How deeply `(`, `[` and `{` nest outside string literals.
fn bracket_depth(source: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn tree_depth(expr: &IdedExpr) -> usize {
    let children: Vec<&IdedExpr> = match &expr.expr {
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => Vec::new(),
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| t.as_ref())
            .chain(&call.args)
            .collect(),
        Expr::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Expr::Select(select) => vec![select.operand.as_ref()],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => map
            .entries
            .iter()
            .flat_map(|e| entry_children(&e.expr))
            .collect(),
        Expr::Struct(object) => object
            .entries
            .iter()
            .flat_map(|e| entry_children(&e.expr))
            .collect(),
    };
    1 + children.into_iter().map(tree_depth).max().unwrap_or(0)
}

fn entry_children(entry: &EntryExpr) -> Vec<&IdedExpr> {
    match entry {
        EntryExpr::StructField(field) => vec![&field.value],
        EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
    }
}

/// The root CEL context for policy expressions: the standard library, the Kubernetes libraries
/// from `kube-cel`, and the helper optional selects are rewritten to.
///
/// A name clash with a standard function makes cel refuse the registration (it keeps its own);
/// the authorizer's and our helper's names are tested to resolve to ours.
pub(crate) fn functions() -> cel::Context<'static, 'static> {
    let mut environment = cel::Env::stdlib();
    // Only fails on a duplicate declaration, which the vendored kube-cel does not make.
    let _ = kube_cel::register_env(&mut environment);
    let mut context = cel::Context::with_env(std::sync::Arc::new(environment)).with_all();
    let _ = context.add_function(CACHED_MATCHES, cached_matches);
    crate::authorizer::register(&mut context);
    context
}

const CACHED_MATCHES: &str = "@palisade.matches";

/// Rewrites calls cel would serve slowly or not at all: `matches` into [`cached_matches`], and
/// `authorizer.requestResource` into a call (see [`crate::authorizer`]).
fn rewrite_calls(expr: &mut IdedExpr) {
    match &mut expr.expr {
        Expr::Call(call) => {
            if let Some(target) = call.target.as_mut() {
                rewrite_calls(target);
            }
            for arg in &mut call.args {
                rewrite_calls(arg);
            }
            if call.func_name == "matches" {
                // `matches(s, re)` and `s.matches(re)` both become `s.@palisade.matches(re)`.
                if call.target.is_none() && call.args.len() == 2 {
                    let text = call.args.remove(0);
                    call.target = Some(Box::new(text));
                }
                if call.target.is_some() && call.args.len() == 1 {
                    call.func_name = CACHED_MATCHES.to_string();
                }
            }
        }
        Expr::Comprehension(comprehension) => {
            for part in [
                &mut comprehension.iter_range,
                &mut comprehension.accu_init,
                &mut comprehension.loop_cond,
                &mut comprehension.loop_step,
                &mut comprehension.result,
            ] {
                rewrite_calls(part);
            }
        }
        Expr::Select(select) => {
            rewrite_calls(&mut select.operand);
            // `authorizer.requestResource`: cel cannot select fields of opaque values.
            if !select.test
                && select.field == "requestResource"
                && matches!(&select.operand.expr, Expr::Ident(name) if name == "authorizer")
            {
                let operand = std::mem::take(select.operand.as_mut());
                expr.expr = Expr::Call(cel::common::ast::CallExpr {
                    func_name: crate::authorizer::REQUEST_RESOURCE.to_string(),
                    target: Some(Box::new(operand)),
                    args: Vec::new(),
                });
            }
        }
        Expr::List(list) => list.elements.iter_mut().for_each(rewrite_calls),
        Expr::Map(map) => map.entries.iter_mut().for_each(|e| lift_entry(&mut e.expr)),
        Expr::Struct(object) => object
            .entries
            .iter_mut()
            .for_each(|e| lift_entry(&mut e.expr)),
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
}

fn lift_entry(entry: &mut EntryExpr) {
    match entry {
        EntryExpr::StructField(field) => rewrite_calls(&mut field.value),
        EntryExpr::MapEntry(entry) => {
            rewrite_calls(&mut entry.key);
            rewrite_calls(&mut entry.value);
        }
    }
}

/// How many compiled patterns a thread keeps; past it the cache starts over, so hostile policy
/// sets with endless distinct patterns cost compile time, never unbounded memory.
const REGEX_CACHE_LIMIT: usize = 512;

/// `text.matches(pattern)` as cel defines it (RE2 syntax, a match anywhere in `text`), with the
/// compiled pattern kept per thread: compiling is what `matches` costs, and policies use the same
/// few literal patterns on every request.
fn cached_matches(This(text): This<Arc<String>>, pattern: Arc<String>) -> ResolveResult {
    thread_local! {
        static COMPILED: std::cell::RefCell<HashMap<Arc<String>, regex::Regex>> =
            std::cell::RefCell::new(HashMap::new());
    }
    COMPILED.with(|compiled| {
        let mut compiled = compiled.borrow_mut();
        if let Some(regex) = compiled.get(&pattern) {
            return Ok(Value::Bool(regex.is_match(&text)));
        }
        let regex =
            regex::Regex::new(&pattern).map_err(|err| cel::ExecutionError::FunctionError {
                function: "matches".to_string(),
                message: format!("'{pattern}' not a valid regex:\n{err}"),
            })?;
        let matched = regex.is_match(&text);
        if compiled.len() >= REGEX_CACHE_LIMIT {
            compiled.clear();
        }
        compiled.insert(pattern, regex);
        Ok(Value::Bool(matched))
    })
}

#[derive(Default)]
struct References {
    variables: BTreeSet<String>,
    /// `variables` used as a value on its own (`variables[name]`, `size(variables)`): every
    /// variable may be read.
    whole_variables: bool,
    authorizer: bool,
    unknown: BTreeSet<String>,
}

impl References {
    /// `bound` holds the comprehension variables in scope (`c` in `containers.all(c, …)`).
    fn walk(&mut self, expr: &IdedExpr, bound: &mut Vec<String>) {
        match &expr.expr {
            Expr::Unspecified | Expr::Literal(_) => {}
            Expr::Ident(name) => self.ident(name, bound),
            Expr::Select(select) => match &select.operand.expr {
                Expr::Ident(name) if name == "variables" && !bound.contains(name) => {
                    self.variables.insert(select.field.clone());
                }
                _ => self.walk(&select.operand, bound),
            },
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.walk(target, bound);
                }
                for arg in &call.args {
                    self.walk(arg, bound);
                }
            }
            Expr::Comprehension(comprehension) => {
                self.walk(&comprehension.iter_range, bound);
                self.walk(&comprehension.accu_init, bound);
                let depth = bound.len();
                bound.push(comprehension.iter_var.clone());
                bound.extend(comprehension.iter_var2.clone());
                bound.push(comprehension.accu_var.clone());
                self.walk(&comprehension.loop_cond, bound);
                self.walk(&comprehension.loop_step, bound);
                self.walk(&comprehension.result, bound);
                bound.truncate(depth);
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.walk(element, bound);
                }
            }
            Expr::Map(map) => self.entries(map.entries.iter().map(|e| &e.expr), bound),
            Expr::Struct(object) => self.entries(object.entries.iter().map(|e| &e.expr), bound),
        }
    }

    fn entries<'e>(
        &mut self,
        entries: impl Iterator<Item = &'e EntryExpr>,
        bound: &mut Vec<String>,
    ) {
        for entry in entries {
            match entry {
                EntryExpr::StructField(field) => self.walk(&field.value, bound),
                EntryExpr::MapEntry(entry) => {
                    self.walk(&entry.key, bound);
                    self.walk(&entry.value, bound);
                }
            }
        }
    }

    fn ident(&mut self, name: &str, bound: &[String]) {
        // Macro expansions use internal names such as `@result`.
        if name.starts_with('@') || bound.iter().any(|b| b == name) {
            return;
        }
        match name {
            "variables" => self.whole_variables = true,
            "authorizer" => self.authorizer = true,
            _ if ENVIRONMENT.contains(&name) || BUILTIN_IDENTIFIERS.contains(&name) => {}
            _ => {
                self.unknown.insert(name.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_variables_an_expression_reads() {
        let declared = names(&["a", "b", "c"]);
        let expr = Expression::compile("variables.c > 1 && has(variables.a)", &declared).unwrap();
        assert_eq!(expr.variables, vec![0, 2]);
        assert!(!expr.uses_authorizer);
    }

    #[test]
    fn variable_reads_become_identifiers() {
        let declared = names(&["a", "b"]);
        let expr = Expression::compile("has(variables.b) && variables.a", &declared).unwrap();
        assert!(!expr.whole_variables);
        let context = {
            let mut context = functions();
            context.add_variable_from_value(variable_identifier("a"), true);
            context
        };
        assert_eq!(expr.execute(&context), Ok(cel::Value::Bool(true)));
        let whole = Expression::compile("size(variables) == 2", &declared).unwrap();
        assert!(whole.whole_variables);
        assert_eq!(whole.variables, vec![0, 1]);
    }

    #[test]
    fn comprehension_variables_are_not_free() {
        let expr = Expression::compile(
            "object.spec.containers.all(c, c.image.startsWith('registry.example.com/'))",
            &[],
        );
        assert!(expr.is_ok(), "{:?}", expr.err());
    }

    #[test]
    fn undeclared_names_are_rejected() {
        let err = Expression::compile("objct.spec.replicas < 5", &[])
            .err()
            .unwrap_or_default();
        assert!(err.contains("`objct`"), "{err}");
        let err = Expression::compile("variables.later", &names(&["earlier"]))
            .err()
            .unwrap_or_default();
        assert!(err.contains("variables.later"), "{err}");
    }

    #[test]
    fn authorizer_use_is_recorded() {
        let expr = Expression::compile(
            "authorizer.group('').resource('pods').check('create').allowed()",
            &[],
        )
        .unwrap();
        assert!(expr.uses_authorizer);
    }
}

#[cfg(test)]
mod library_tests {
    use super::*;

    fn eval(source: &str) -> Result<cel::Value, String> {
        let context = functions();
        let expression = Expression::compile(source, &[])?;
        expression.execute(&context).map_err(|e| e.to_string())
    }

    #[test]
    fn namespaced_library_functions_compile_and_run() {
        for source in [
            "sets.contains([1, 2], [1])",
            "[3, 1, 2].sort() == [1, 2, 3]",
            "'a,b'.split(',').size() == 2",
            "isQuantity('100m') && quantity('1').isGreaterThan(quantity('100m'))",
            "isCIDR('10.0.0.0/8') && ip('10.0.0.1').family() == 4",
            "isURL('https://example.com') && url('https://example.com:8443/x').getPort() == '8443'",
            "'web-01'.matches('^[a-z]+-[0-9]+$')",
            "optional.of(1).orValue(2) == 1",
            "{'a': 1}.?b.orValue(5) == 5 && {'a': {'b': 2}}.?a.?b.orValue(0) == 2",
            "{'a': 1}.?x.?y.orValue(3) == 3 && !{'a': 1}.?x.hasValue()",
            "string(ip('10.0.0.1')) == '10.0.0.1' && cidr('10.0.0.0/8').string() == '10.0.0.0/8'",
            "string(42) == '42'",
        ] {
            assert_eq!(eval(source), Ok(cel::Value::Bool(true)), "{source}");
        }
    }

    #[test]
    fn matches_is_cels_with_a_cache() {
        // Both call forms, a match anywhere (not anchored), and the same pattern again from the
        // cache with a different answer.
        for (source, expected) in [
            ("'registry.example.com/app'.matches('example')", true),
            ("matches('registry.example.com/app', '^registry')", true),
            ("'docker.io/app'.matches('^registry')", false),
            (
                "['a1', 'b2', 'c'].filter(s, s.matches('[0-9]')) == ['a1', 'b2']",
                true,
            ),
        ] {
            assert_eq!(eval(source), Ok(cel::Value::Bool(expected)), "{source}");
        }
        let error = eval("'x'.matches('(')").expect_err("an invalid pattern is an error");
        assert!(error.contains("not a valid regex"), "{error}");
        // Past the cache's limit it starts over and still answers.
        for i in 0..(REGEX_CACHE_LIMIT + 5) {
            let source = format!("'item-{i}'.matches('^item-{i}$')");
            assert_eq!(eval(&source), Ok(cel::Value::Bool(true)), "{source}");
        }
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    #[test]
    fn hostile_nesting_never_crashes() {
        let inputs = [
            "(".repeat(5000) + "1" + &")".repeat(5000),
            "[".repeat(5000) + &"]".repeat(5000),
            "!".repeat(20000) + "true",
            vec!["1"; 20000].join(" + "),
            "a.".repeat(10000) + "b",
            (0..3000)
                .map(|i| format!("[{i}].all(x{i}, "))
                .collect::<String>()
                + "true"
                + &")".repeat(3000),
        ];
        let context = functions();
        let mut rejected = 0;
        for input in &inputs {
            // The parser folds runs of `!`, so some inputs are legitimately shallow: those must
            // evaluate; the others must be refused at load.
            match Expression::compile(input, &[]) {
                Ok(expression) => {
                    let _ = expression.execute(&context);
                }
                Err(message) => {
                    assert!(
                        ["deep", "nest", "long"].iter().any(|w| message.contains(w)),
                        "{message}"
                    );
                    rejected += 1;
                }
            }
        }
        assert!(rejected >= 5, "only {rejected} hostile inputs were refused");
    }

    #[test]
    fn accepted_depths_evaluate_on_an_ordinary_thread() {
        // Just inside the limits: must evaluate on a 2 MiB test thread without overflowing.
        let sum = vec!["1"; MAX_TREE_DEPTH - 2].join(" + ");
        let nested = "(".repeat(MAX_BRACKET_DEPTH - 1) + "1" + &")".repeat(MAX_BRACKET_DEPTH - 1);
        let context = functions();
        for source in [sum, nested] {
            let expression = Expression::compile(&source, &[]).unwrap();
            assert!(expression.execute(&context).is_ok(), "{}", &source[..20]);
        }
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        assert_eq!(bracket_depth("'((((' + \"[[\" + f(x[1])"), 2);
    }
}
