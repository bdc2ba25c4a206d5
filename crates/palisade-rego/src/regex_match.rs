//! `regex.match` with each engine keeping its compiled patterns. Regorus caches compiled patterns
//! globally but hands out a clone per call, and a cloned `regex::Regex` starts with an empty match
//! cache, so every call rebuilt the lazy DFA's states from scratch (a visible share of an
//! admission request's cost). Installed as an extension, which regorus consults before builtins;
//! an engine reused across requests (see `ThreadEngines`) keeps its patterns warm.
//!
//! Results and errors are those of regorus 0.14.1's builtin: strings only, the same 100 KiB
//! compiled-size limit, an error for an invalid pattern (regorus raises builtin errors by
//! default), undefined when an argument is undefined (the interpreter answers that before calling
//! any function).

use std::collections::HashMap;

use regorus::Value;

/// regorus's `REGEX_SIZE_LIMIT`.
const SIZE_LIMIT: usize = 100 * 1024;

/// Patterns one engine keeps; a policy's patterns are few, so past this the set is rebuilt rather
/// than tracked for recency.
const PATTERNS_PER_ENGINE: usize = 64;

/// The `regex.match(pattern, value)` extension.
pub fn extension() -> impl FnMut(Vec<Value>) -> anyhow::Result<Value> + Clone + Send + Sync {
    let mut compiled: HashMap<String, regex::Regex> = HashMap::new();
    move |args: Vec<Value>| {
        let (Some(pattern), Some(value)) = (args.first(), args.get(1)) else {
            anyhow::bail!("`regex.match` expects 2 arguments");
        };
        let pattern = string_argument(pattern)?;
        let value = string_argument(value)?;
        if let Some(re) = compiled.get(pattern) {
            return Ok(Value::Bool(re.is_match(value)));
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => {
                    anyhow::anyhow!("regex exceeds the compiled size limit of {SIZE_LIMIT} bytes")
                }
                _ => anyhow::anyhow!("invalid regex"),
            })?;
        let matched = re.is_match(value);
        if compiled.len() >= PATTERNS_PER_ENGINE {
            compiled.clear();
        }
        compiled.insert(pattern.to_string(), re);
        Ok(Value::Bool(matched))
    }
}

fn string_argument(value: &Value) -> anyhow::Result<&str> {
    match value {
        Value::String(s) => Ok(s),
        other => anyhow::bail!("`regex.match` expects string argument. Got `{other}` instead"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(pattern: Value, value: Value) -> anyhow::Result<Value> {
        extension()(vec![pattern, value])
    }

    #[test]
    fn matches_like_the_builtin() {
        let mut regex_match = extension();
        for _ in 0..2 {
            assert_eq!(
                regex_match(vec![Value::from("^[a-z]+$"), Value::from("web")]).ok(),
                Some(Value::Bool(true))
            );
            assert_eq!(
                regex_match(vec![Value::from(":[^/]+$|@sha256:"), Value::from("nginx")]).ok(),
                Some(Value::Bool(false))
            );
        }
    }

    #[test]
    fn bad_arguments_and_patterns_are_errors() {
        assert!(call(Value::from("("), Value::from("x")).is_err());
        assert!(call(Value::from(1), Value::from("x")).is_err());
        assert!(call(Value::from("x"), Value::Null).is_err());
        assert!(extension()(vec![Value::from("x")]).is_err());
        assert!(call(Value::from("a{1000}{1000}"), Value::from("a")).is_err());
    }

    #[test]
    fn many_patterns_stay_correct() {
        let mut regex_match = extension();
        for i in 0..(PATTERNS_PER_ENGINE * 2) {
            let pattern = format!("^p{i}$");
            assert_eq!(
                regex_match(vec![
                    Value::from(pattern.as_str()),
                    Value::from(format!("p{i}"))
                ])
                .ok(),
                Some(Value::Bool(true))
            );
        }
    }
}
