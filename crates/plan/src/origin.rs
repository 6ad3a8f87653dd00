//! A consumed API's base URI, split once when the plan is compiled, so that building a
//! request parses only the path and query it adds (parsing the scheme and authority of
//! the whole URL again cost about a thousand instructions per call).

use http::Uri;
use naftiko_upstream::{Origin as UpstreamOrigin, UpstreamError};

/// The origin (scheme and authority) and path prefix of a base URI.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    origin: UpstreamOrigin,
    /// The base's path without a trailing slash: empty, or starting with `/`.
    prefix: String,
}

impl Origin {
    /// Splits `base` (without a trailing slash); `None` when it is not an absolute
    /// `http`/`https` URI without userinfo, query or fragment, which then goes through
    /// the full parse every time.
    pub(crate) fn of(base: &str) -> Option<Self> {
        let uri: Uri = base.parse().ok()?;
        let origin = UpstreamOrigin::of(&uri).ok()?;
        let prefix = match uri.path_and_query() {
            Some(pq) if pq.query().is_some() => return None,
            Some(pq) => pq.path().trim_end_matches('/').to_owned(),
            None => String::new(),
        };
        (!base.contains('#')).then_some(())?;
        Some(Self { origin, prefix })
    }

    /// The base's path, which a request's path and query are appended to.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where requests go.
    pub(crate) fn origin(&self) -> &UpstreamOrigin {
        &self.origin
    }
}

/// Why a whole URL cannot be split (see [`split_url`]).
#[derive(Debug)]
pub(crate) enum UrlError {
    /// It is not a URI: the request built from the inputs is wrong.
    NotAUri(String),
    /// It is one, but not one calls can go to (scheme, userinfo, no host).
    Refused(UpstreamError),
}

/// The origin and origin-form target of a whole URL (bases [`Origin::of`] left alone).
pub(crate) fn split_url(url: &str) -> Result<(UpstreamOrigin, String), UrlError> {
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| UrlError::NotAUri(e.to_string()))?;
    let origin = UpstreamOrigin::of(&uri).map_err(UrlError::Refused)?;
    let target = match uri.path_and_query().map(|pq| pq.as_str()) {
        Some(pq) if pq.starts_with('/') => pq.to_owned(),
        Some(pq) => format!("/{pq}"),
        None => "/".to_owned(),
    };
    Ok((origin, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_what_the_full_parse_splits() {
        for base in [
            "http://127.0.0.1:4433",
            "https://api.example.com/v2",
            "http://h:1/a/b",
        ] {
            let origin = Origin::of(base).unwrap_or_else(|| panic!("{base}"));
            for tail in ["/x", "/x/y?q=1&r=%20", "/", "/%E2%82%AC?a=b"] {
                let target = format!("{}{tail}", origin.prefix());
                let full = split_url(&format!("{base}{tail}")).unwrap();
                assert_eq!(
                    (origin.origin(), &target),
                    (&full.0, &full.1),
                    "{base} {tail}"
                );
            }
        }
    }

    #[test]
    fn leaves_unusual_bases_to_the_full_parse() {
        for base in [
            "/relative",
            "http://h/a?x=1",
            "http://h/a#f",
            "https://user@h",
            "ftp://h/x",
            "not a uri",
            "",
        ] {
            assert!(Origin::of(base).is_none(), "{base}");
        }
        assert_eq!(
            Origin::of("http://h/a/").map(|o| o.prefix),
            Some("/a".into())
        );
        assert!(matches!(split_url("not a uri"), Err(UrlError::NotAUri(_))));
        assert!(matches!(split_url("ftp://h/x"), Err(UrlError::Refused(_))));
        assert_eq!(split_url("http://h").unwrap().1, "/");
    }
}
