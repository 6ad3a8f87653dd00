//! `{{name(.name)*}}` templates: a small, strict resolver of our own.
//!
//! Names may contain letters, digits, `_` and `-` (`{{env.ORY_API_KEY}}`,
//! `{{step-one.id}}`); spaces inside the braces are allowed. There is no logic, no HTML
//! escaping and no "missing variable renders empty": the caller decides how a value is
//! escaped (JSON, percent-encoding, none) and what a missing variable means. Templates are
//! parsed once at load time; rendering never re-parses.

use std::fmt;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text.
    Lit(String),
    /// A `{{variable}}`.
    Var(VarRef),
}

/// A variable reference: `env.ORY_API_KEY` → `["env", "ORY_API_KEY"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VarRef {
    /// The dotted parts.
    pub parts: Vec<String>,
}

impl VarRef {
    /// The first part (`env` of `env.X`).
    pub fn head(&self) -> &str {
        self.parts.first().map_or("", String::as_str)
    }
}

impl fmt::Display for VarRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("."))
    }
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Character offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses `src`. Text without `{{` is one literal.
    pub fn parse(src: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut rest = src;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                segments.push(Segment::Lit(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(TemplateError {
                    offset: offset + start,
                    message: "'{{' is never closed with '}}'".into(),
                });
            };
            let inner = after[..end].trim();
            segments.push(Segment::Var(parse_var(inner, offset + start)?));
            let consumed = start + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Lit(rest.to_string()));
        }
        Ok(Self { segments })
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether the template has no variables.
    pub fn is_literal(&self) -> bool {
        self.vars().next().is_none()
    }

    /// The variables, in order.
    pub fn vars(&self) -> impl Iterator<Item = &VarRef> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v),
            Segment::Lit(_) => None,
        })
    }

    /// The variable when the whole template is exactly one `{{variable}}`.
    pub fn as_single_var(&self) -> Option<&VarRef> {
        match self.segments.as_slice() {
            [Segment::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// Renders into `out`; `var` writes (and escapes) each variable's value or fails.
    pub fn render_into<E>(
        &self,
        out: &mut String,
        mut var: impl FnMut(&VarRef, &mut String) -> Result<(), E>,
    ) -> Result<(), E> {
        for s in &self.segments {
            match s {
                Segment::Lit(l) => out.push_str(l),
                Segment::Var(v) => var(v, out)?,
            }
        }
        Ok(())
    }
}

fn parse_var(inner: &str, offset: usize) -> Result<VarRef, TemplateError> {
    if inner.is_empty() {
        return Err(TemplateError {
            offset,
            message: "empty '{{}}' placeholder".into(),
        });
    }
    let mut parts = Vec::new();
    for part in inner.split('.') {
        let ok = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
        if !ok {
            return Err(TemplateError {
                offset,
                message: format!(
                    "'{{{{{inner}}}}}' is not a variable name (letters, digits, '_', '-', separated by '.')"
                ),
            });
        }
        parts.push(part.to_string());
    }
    Ok(VarRef { parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &Template) -> Vec<String> {
        t.vars().map(ToString::to_string).collect()
    }

    #[test]
    fn parses_variables_with_hyphens_and_dots() {
        let t = Template::parse("Bearer {{ env.ORY_API_KEY }}/{{step-one.id}}").unwrap();
        assert_eq!(names(&t), ["env.ORY_API_KEY", "step-one.id"]);
        assert!(!t.is_literal());
        assert!(Template::parse("{{x}}").unwrap().as_single_var().is_some());
        assert!(Template::parse("a{{x}}").unwrap().as_single_var().is_none());
    }

    #[test]
    fn literal_text_and_single_braces_stay_literal() {
        let t = Template::parse("/users/{id}").unwrap();
        assert!(t.is_literal());
        assert_eq!(t.segments(), [Segment::Lit("/users/{id}".into())]);
    }

    #[test]
    fn rejects_unclosed_and_bad_names() {
        assert_eq!(Template::parse("a {{x").unwrap_err().offset, 2);
        assert!(Template::parse("{{}}").is_err());
        assert!(Template::parse("{{a b}}").is_err());
        assert!(Template::parse("{{a..b}}").is_err());
    }

    #[test]
    fn renders_with_caller_escaping() {
        let t = Template::parse("x={{a}}&y={{b}}").unwrap();
        let mut out = String::new();
        t.render_into(&mut out, |v, out| {
            out.push_str(&v.to_string().to_uppercase());
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(out, "x=A&y=B");
        let err = t.render_into(&mut String::new(), |v, _| Err(v.to_string()));
        assert_eq!(err, Err("a".to_string()));
    }
}
