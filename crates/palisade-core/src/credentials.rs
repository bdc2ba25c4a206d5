//! Does a literal value look like a credential? Shared by the check that reports credentials in
//! environment variables and by the snapshot writer that must not store them, so both agree on
//! what a credential is.
//!
//! Pure functions over strings: nothing here keeps or prints a value.

/// What `palisade-kube` writes in snapshots in place of a credential-named literal: it stands for
/// a non-empty literal value, so it is reported like one.
pub const REDACTED: &str = "<redacted by palisade>";

/// Splits a variable name into upper-case words at `_`, `-`, `.` and camelCase boundaries:
/// `dbPassword` → `DB PASSWORD`, `APIKey` → `API KEY`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let previous = i.checked_sub(1).and_then(|p| chars.get(p));
        let next = chars.get(i + 1);
        let boundary = c.is_ascii_uppercase()
            && !current.is_empty()
            && (previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (previous.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase())));
        if boundary {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_uppercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASS",
    "PASSPHRASE",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "TOKENS",
    "APIKEY",
    "ACCESSKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
];

const CREDENTIAL_PAIRS: &[(&str, &str)] = &[("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY")];

/// Final words that make a credential-sounding name describe *about* the credential (where it is,
/// what kind, whether it is on) rather than hold it: `AUTH_URL`, `TOKEN_TTL`, `SECRET_NAME`.
const NON_CREDENTIAL_SUFFIXES: &[&str] = &[
    "URL",
    "URLS",
    "URI",
    "URIS",
    "ENDPOINT",
    "ENDPOINTS",
    "HOST",
    "HOSTS",
    "HOSTNAME",
    "PORT",
    "ADDR",
    "ADDRESS",
    "SERVER",
    "SERVERS",
    "DOMAIN",
    "REALM",
    "REGION",
    "FILE",
    "FILES",
    "PATH",
    "DIR",
    "DIRECTORY",
    "LOCATION",
    "NAME",
    "NAMES",
    "NAMESPACE",
    "ID",
    "IDS",
    "USER",
    "USERNAME",
    "LOGIN",
    "EMAIL",
    "ROLE",
    "TYPE",
    "KIND",
    "MODE",
    "METHOD",
    "METHODS",
    "STRATEGY",
    "PROVIDER",
    "BACKEND",
    "STORE",
    "SOURCE",
    "FORMAT",
    "ALGORITHM",
    "ALG",
    "HEADER",
    "PREFIX",
    "SUFFIX",
    "SCOPE",
    "SCOPES",
    "AUDIENCE",
    "ISSUER",
    "VERSION",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "DISABLE",
    "REQUIRED",
    "ENFORCED",
    "TTL",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "LIFETIME",
    "TIMEOUT",
    "INTERVAL",
    "DURATION",
    "AGE",
    "LENGTH",
    "SIZE",
    "COUNT",
    "LIMIT",
    "RETRIES",
    "POLICY",
    "REF",
    "LEVEL",
];

/// Whether a variable name says it holds a credential. `AUTH` counts only as the last word
/// (`BASIC_AUTH`, `REDIS_AUTH`): as a first word it names a settings group (`GF_AUTH_…`).
fn name_suggests_credential(name: &str) -> bool {
    let words = name_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NON_CREDENTIAL_SUFFIXES.contains(&last.as_str()) {
        return false;
    }
    last == "AUTH"
        || words.iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
        || words.windows(2).any(|pair| match pair {
            [a, b] => CREDENTIAL_PAIRS.contains(&(a.as_str(), b.as_str())),
            _ => false,
        })
}

/// Values that cannot be a credential even under a credential-sounding name: references the
/// kubelet or a templating tool expands, placeholders, switches, durations and small numbers,
/// file paths, secret-manager references and URLs without a password.
fn is_reference_or_setting(value: &str, name_is_only_auth: bool) -> bool {
    let value = value.trim();
    if value.is_empty() {
        return true;
    }
    if value == REDACTED {
        return false;
    }
    if value.contains("$(") || value.contains("${") || value.contains("{{") {
        return true;
    }
    if value.starts_with('<') && value.ends_with('>') {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "enabled",
        "disabled",
        "null",
        "none",
        "nil",
        "undefined",
        "n/a",
        "-",
        "placeholder",
        "replace_me",
        "replaceme",
        "todo",
        "tbd",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    // Masks such as `****` or `xxxxxxxx`.
    if let Some(first) = value.chars().next()
        && matches!(first, '*' | 'x' | 'X' | '.' | '#')
        && value.chars().all(|c| c == first)
    {
        return true;
    }
    // Counts, ports and durations (`3600`, `30s`, `24h`).
    let digits = value.trim_end_matches(['s', 'm', 'h', 'd']);
    if !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    if value.starts_with('/') && !value.contains(char::is_whitespace) {
        return true;
    }
    const SECRET_STORE_PREFIXES: &[&str] = &["vault:", "ref+", "arn:aws:", "projects/"];
    if SECRET_STORE_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    if lower.contains("://") && !value.contains(char::is_whitespace) {
        return url_password(value).is_none();
    }
    // Under a name like `BASIC_AUTH` or `AUTH`, a single word names the mechanism, not a secret.
    if name_is_only_auth {
        const MECHANISMS: &[&str] = &[
            "basic",
            "bearer",
            "digest",
            "oauth",
            "oauth2",
            "oidc",
            "ldap",
            "saml",
            "jwt",
            "token",
            "anonymous",
            "kerberos",
            "ntlm",
            "plain",
            "scram",
            "md5",
            "trust",
            "password",
            "cert",
            "tls",
            "mtls",
            "iam",
            "htpasswd",
            "header",
            "internal",
            "external",
        ];
        if MECHANISMS.contains(&lower.as_str()) {
            return true;
        }
    }
    false
}

/// The byte ranges of `value` where `prefix` starts at a word boundary.
fn boundary_starts<'a>(value: &'a str, prefix: &'a str) -> impl Iterator<Item = usize> + 'a {
    value.match_indices(prefix).filter_map(move |(at, _)| {
        let before = value[..at].chars().next_back();
        (!before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')).then_some(at)
    })
}

/// How many bytes after `at` satisfy `class`.
fn run_length(value: &str, at: usize, class: impl Fn(u8) -> bool) -> usize {
    value
        .as_bytes()
        .get(at..)
        .unwrap_or(&[])
        .iter()
        .take_while(|&&b| class(b))
        .count()
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `prefix` at a word boundary followed by at least `min` (and, when given, exactly `exact`)
/// bytes of `class`.
fn has_prefixed_token(
    value: &str,
    prefixes: &[&str],
    min: usize,
    exact: Option<usize>,
    class: impl Fn(u8) -> bool + Copy,
) -> bool {
    prefixes.iter().any(|prefix| {
        boundary_starts(value, prefix).any(|at| {
            let body = run_length(value, at + prefix.len(), class);
            match exact {
                Some(n) => body == n,
                None => body >= min,
            }
        })
    })
}

fn is_jwt(value: &str) -> bool {
    boundary_starts(value, "eyJ").any(|at| {
        let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        let header = run_length(value, at, b64);
        let payload_at = at + header + 1;
        if header < 10 || value.as_bytes().get(at + header) != Some(&b'.') {
            return false;
        }
        if !value
            .get(payload_at..)
            .is_some_and(|rest| rest.starts_with("eyJ"))
        {
            return false;
        }
        let payload = run_length(value, payload_at, b64);
        // The signature may be empty (`alg: none`) but the separating dot must be there.
        payload >= 10 && value.as_bytes().get(payload_at + payload) == Some(&b'.')
    })
}

/// The password of the first `scheme://user:password@host` URL in `value`, unless it is a
/// reference the kubelet expands.
fn url_password(value: &str) -> Option<&str> {
    value.match_indices("://").find_map(|(at, _)| {
        let rest = value.get(at + 3..)?;
        let authority_end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = rest.get(..authority_end)?;
        let (userinfo, _) = authority.rsplit_once('@')?;
        let (_, password) = userinfo.split_once(':')?;
        let is_reference =
            password.contains("$(") || password.contains("${") || password.contains("{{");
        (!password.is_empty() && !is_reference).then_some(password)
    })
}

/// Recognises well-known credential formats anywhere in a value, whatever the variable is called.
fn credential_format(value: &str) -> Option<&'static str> {
    let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY-----") {
        return Some("a PEM private key");
    }
    if has_prefixed_token(value, &["AKIA", "ASIA"], 16, Some(16), upper_alnum) {
        return Some("an AWS access key ID");
    }
    if has_prefixed_token(
        value,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        36,
        None,
        alnum,
    ) || has_prefixed_token(value, &["github_pat_"], 22, None, |b| {
        b.is_ascii_alphanumeric() || b == b'_'
    }) {
        return Some("a GitHub token");
    }
    if has_prefixed_token(value, &["glpat-"], 20, None, is_token_byte) {
        return Some("a GitLab token");
    }
    if has_prefixed_token(
        value,
        &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"],
        10,
        None,
        |b| b.is_ascii_alphanumeric() || b == b'-',
    ) {
        return Some("a Slack token");
    }
    if has_prefixed_token(
        value,
        &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        10,
        None,
        alnum,
    ) {
        return Some("a Stripe secret key");
    }
    if has_prefixed_token(value, &["AIza"], 35, Some(35), is_token_byte) {
        return Some("a Google API key");
    }
    if is_jwt(value) {
        return Some("a JSON Web Token");
    }
    if has_prefixed_token(value, &["Bearer ", "Basic "], 16, None, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'=')
    }) {
        return Some("an HTTP Authorization header");
    }
    if url_password(value).is_some() {
        return Some("a URL with an embedded password");
    }
    None
}

/// Why the literal `value` of a variable named `name` looks like a credential (`"the value looks
/// like a GitHub token"`, `"the name suggests a credential"`), or `None`. The reason never
/// contains the value.
pub fn literal_credential(name: &str, value: &str) -> Option<String> {
    if let Some(format) = credential_format(value) {
        return Some(format!("the value looks like {format}"));
    }
    if !name_suggests_credential(name) {
        return None;
    }
    let words = name_words(name);
    let only_auth = words.last().is_some_and(|w| w == "AUTH")
        && !words.iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str()));
    if is_reference_or_setting(value, only_auth) {
        return None;
    }
    Some("the name suggests a credential".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        for name in [
            "DB_PASSWORD",
            "dbPassword",
            "MYSQL_ROOT_PASSWD",
            "CLIENT_SECRET",
            "GITHUB_TOKEN",
            "STRIPE_API_KEY",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            "BASIC_AUTH",
            "REDIS_PASS",
        ] {
            assert!(name_suggests_credential(name), "{name}");
        }
        for name in [
            "AUTH_URL",
            "GF_AUTH_ANONYMOUS_ENABLED",
            "GF_AUTH_ANONYMOUS_ORG_ROLE",
            "TOKEN_TTL",
            "PASSWORD_FILE",
            "SECRET_NAME",
            "AWS_ACCESS_KEY_ID",
            "AUTHOR",
            "TOKENIZER_MODEL",
            "BYPASS_CACHE",
            "LOG_LEVEL",
        ] {
            assert!(!name_suggests_credential(name), "{name}");
        }
    }

    #[test]
    fn credential_values() {
        let formats = [
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            ("ghp_0123456789abcdefghijklmnopqrstuvwxyz", "a GitHub token"),
            ("xoxb-1234567890-abcdefghij", "a Slack token"),
            ("sk_live_0123456789abcdef", "a Stripe secret key"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                "a PEM private key",
            ),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
            (
                "postgres://app:s3cr3t@db:5432/app",
                "a URL with an embedded password",
            ),
            (
                "Bearer abcdefghijklmnop1234",
                "an HTTP Authorization header",
            ),
        ];
        for (value, format) in formats {
            assert_eq!(credential_format(value), Some(format), "{value}");
        }
        for value in [
            "XAKIAIOSFODNN7EXAMPLE",
            "postgres://app:$(DB_PASSWORD)@db/app",
            "https://example.com/path",
            "ghp_short",
            "elasticsearch.logging.example.internal",
        ] {
            assert_eq!(credential_format(value), None, "{value}");
        }
    }
}
