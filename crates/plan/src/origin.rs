//! A consumed API's base URI, split once when the plan is compiled, so that building a
//! request parses only the path and query it adds (parsing the scheme and authority of
//! the whole URL again cost about a thousand instructions per call).

use http::Uri;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};

/// The scheme, authority and path prefix of a base URI.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    scheme: Scheme,
    authority: Authority,
    /// The base's path without a trailing slash: empty, or starting with `/`.
    prefix: String,
}

impl Origin {
    /// Splits `base` (without a trailing slash); `None` when it is not an absolute URI
    /// without query or fragment, which then goes through the full parse every time.
    pub(crate) fn of(base: &str) -> Option<Self> {
        let uri: Uri = base.parse().ok()?;
        let parts = uri.into_parts();
        let prefix = match parts.path_and_query {
            Some(pq) if pq.query().is_some() => return None,
            Some(pq) => pq.path().trim_end_matches('/').to_owned(),
            None => String::new(),
        };
        (!base.contains('#')).then_some(())?;
        Some(Self {
            scheme: parts.scheme?,
            authority: parts.authority?,
            prefix,
        })
    }

    /// The base's path, which a request's path and query are appended to.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The URI of `target` (this origin's prefix, then the request's own path and query),
    /// or why it is not one.
    pub(crate) fn uri(&self, target: String) -> Result<Uri, String> {
        let mut parts = Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::try_from(target).map_err(|e| e.to_string())?);
        Uri::from_parts(parts).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_what_the_full_parse_builds() {
        for base in [
            "http://127.0.0.1:4433",
            "https://api.example.com/v2",
            "http://h:1/a/b",
            "https://user@h",
        ] {
            let origin = Origin::of(base).unwrap_or_else(|| panic!("{base}"));
            for tail in ["/x", "/x/y?q=1&r=%20", "/", "/%E2%82%AC?a=b#"] {
                let target = format!("{}{tail}", origin.prefix());
                let ours = origin.uri(target);
                let full: Result<Uri, _> = format!("{base}{tail}").parse();
                match (ours, full) {
                    (Ok(o), Ok(f)) => assert_eq!(o, f, "{base} {tail}"),
                    (o, f) => assert_eq!(o.is_ok(), f.is_ok(), "{base} {tail}"),
                }
            }
        }
    }

    #[test]
    fn leaves_unusual_bases_to_the_full_parse() {
        for base in [
            "/relative",
            "http://h/a?x=1",
            "http://h/a#f",
            "not a uri",
            "",
        ] {
            assert!(Origin::of(base).is_none(), "{base}");
        }
        assert_eq!(
            Origin::of("http://h/a/").map(|o| o.prefix),
            Some("/a".into())
        );
    }
}
