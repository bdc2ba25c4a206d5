//! Output templates: literal text with `%field`, `%field[arg]` and `%(field)` placeholders,
//! rendered with the event's values (`<NA>` when the event has none, as Falco prints).

use crate::compile::{CompileError, Context, parse_field_ref};
use crate::eval::FieldRef;
use crate::fields::{Event, FieldValue};
use std::fmt::Write;

#[derive(Debug)]
enum Segment {
    Text(String),
    /// Index into [`Template::fields`].
    Field(usize),
}

#[derive(Debug)]
pub(crate) struct Template {
    segments: Vec<Segment>,
    /// Distinct fields in order of first use: (as written, resolved).
    fields: Vec<(String, FieldRef)>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

impl Template {
    pub fn parse(text: &str, ctx: &Context<'_>) -> Result<Template, CompileError> {
        let mut segments = Vec::new();
        let mut fields: Vec<(String, FieldRef)> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find('%') {
            literal.push_str(rest.get(..pos).unwrap_or_default());
            let after = rest.get(pos + 1..).unwrap_or_default();
            let (written, consumed) = if let Some(inner) = after.strip_prefix('(') {
                match inner.find(')') {
                    Some(end) => (
                        inner.get(..end).unwrap_or_default().trim().to_string(),
                        end + 2,
                    ),
                    None => (String::new(), 0),
                }
            } else {
                let mut n = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                // A sentence-ending dot is not part of the name.
                while n > 0 && after.as_bytes().get(n - 1) == Some(&b'.') {
                    n -= 1;
                }
                let mut end = n;
                if after.as_bytes().get(n) == Some(&b'[')
                    && let Some(close) = after.get(n..).and_then(|s| s.find(']'))
                {
                    end = n + close + 1;
                }
                (after.get(..end).unwrap_or_default().to_string(), end)
            };
            let field = if written.is_empty() {
                None
            } else {
                parse_field_ref(&written)
            };
            match field {
                Some(field) => {
                    let (_, fref) = ctx.resolve_field(&field)?;
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    let index = match fields.iter().position(|(w, _)| *w == written) {
                        Some(i) => i,
                        None => {
                            fields.push((written, fref));
                            fields.len() - 1
                        }
                    };
                    segments.push(Segment::Field(index));
                    rest = after.get(consumed..).unwrap_or_default();
                }
                None => {
                    // Not a placeholder (`100%`, `%%`): keep the percent sign as text.
                    literal.push('%');
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(Template { segments, fields })
    }

    /// Renders the template and the `(field, value)` pairs it names.
    pub fn render(&self, event: &dyn Event) -> (String, Vec<(String, String)>) {
        let values: Vec<String> = self
            .fields
            .iter()
            .map(|(_, f)| {
                let mut s = String::new();
                write_value(&mut s, &event.value(f.id, f.arg.as_deref()));
                s
            })
            .collect();
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Field(i) => out.push_str(values.get(*i).map_or("<NA>", String::as_str)),
            }
        }
        let fields = self
            .fields
            .iter()
            .map(|(w, _)| w.clone())
            .zip(values)
            .collect();
        (out, fields)
    }
}

fn write_value(out: &mut String, value: &FieldValue<'_>) {
    match value {
        FieldValue::Missing => out.push_str("<NA>"),
        FieldValue::Str(s) => out.push_str(s),
        FieldValue::Number(n) => {
            let _ = write!(out, "{n}");
        }
        FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // Falco prints multi-valued fields as `(a,b)`.
        FieldValue::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(item);
            }
            out.push(')');
        }
    }
}
