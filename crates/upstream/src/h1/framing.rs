//! How a response body is delimited (RFC 9112 §6.3) and whether the connection stays
//! open, gathered from the raw header fields while the head is parsed: no lookups in
//! the header map afterwards (three per exchange, a twentieth of a proxied GET).

use http::{Method, StatusCode, Version};

use super::Failure;

/// How the body after a response head is delimited.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// What a head's fields say about framing and keep-alive.
#[derive(Debug)]
pub(super) struct Delimiting {
    /// A `Transfer-Encoding` field was there (valid or not).
    transfer_encoding: bool,
    /// Whether its last coding is `chunked`, when it named one.
    chunked_last: Option<bool>,
    /// A `Content-Length` field was there.
    content_length: bool,
    /// Its value, or why it is refused (the first problem met).
    length: Result<Option<u64>, &'static str>,
    close: bool,
    keep_alive: bool,
}

impl Default for Delimiting {
    fn default() -> Self {
        Self {
            transfer_encoding: false,
            chunked_last: None,
            content_length: false,
            length: Ok(None),
            close: false,
            keep_alive: false,
        }
    }
}

/// `HeaderValue::to_str`'s rule: only visible ASCII (and tab) is read as text.
fn text(value: &[u8]) -> Option<&[u8]> {
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then_some(value)
}

fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

impl Delimiting {
    /// Takes one header field into account, in the order they came.
    pub(super) fn field(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
            for coding in text(value).into_iter().flat_map(tokens) {
                if !coding.is_empty() {
                    self.chunked_last = Some(coding.eq_ignore_ascii_case(b"chunked"));
                }
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            self.content_length = true;
            self.length = self.length.and_then(|known| add_length(known, text(value)));
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in text(value).into_iter().flat_map(tokens) {
                self.close |= option.eq_ignore_ascii_case(b"close");
                self.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }

    /// RFC 9112 §6.3, refusing what a smuggling attempt would look like.
    pub(super) fn framing(&self, method: &Method, status: StatusCode) -> Result<Framing, Failure> {
        if method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(Framing::None);
        }
        if self.transfer_encoding {
            if self.content_length {
                return Err(Failure::Protocol(
                    "response has both Content-Length and Transfer-Encoding".into(),
                ));
            }
            return Ok(match self.chunked_last {
                Some(true) => Framing::Chunked,
                _ => Framing::UntilClose,
            });
        }
        match self.length {
            Ok(length) => Ok(length.map_or(Framing::UntilClose, Framing::Length)),
            Err(why) => Err(Failure::Protocol(why.into())),
        }
    }

    /// Whether the connection may carry another exchange, as far as the head says.
    pub(super) fn keeps_alive(&self, version: Version) -> bool {
        match version {
            Version::HTTP_11 => !self.close,
            _ => self.keep_alive && !self.close,
        }
    }
}

/// One more `Content-Length` value (a list of equal numbers is one number).
fn add_length(mut known: Option<u64>, value: Option<&[u8]>) -> Result<Option<u64>, &'static str> {
    for part in tokens(value.ok_or("invalid Content-Length")?) {
        let n = (!part.is_empty() && part.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(part).ok()?.parse::<u64>().ok())
            .flatten()
            .ok_or("invalid Content-Length")?;
        if known.is_some_and(|l| l != n) {
            return Err("conflicting Content-Length values");
        }
        known = Some(n);
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(fields: &[(&str, &[u8])]) -> Delimiting {
        let mut d = Delimiting::default();
        for (name, value) in fields {
            d.field(name.as_bytes(), value);
        }
        d
    }

    fn framed(fields: &[(&str, &[u8])]) -> Result<Framing, String> {
        of(fields)
            .framing(&Method::GET, StatusCode::OK)
            .map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn lengths_lists_and_conflicts() {
        assert_eq!(framed(&[("Content-Length", b"3")]), Ok(Framing::Length(3)));
        assert_eq!(
            framed(&[("content-length", b"3, 3"), ("CONTENT-LENGTH", b" 3 ")]),
            Ok(Framing::Length(3))
        );
        assert_eq!(framed(&[]), Ok(Framing::UntilClose));
        for bad in [
            &[("content-length", &b"3, 4"[..])][..],
            &[("content-length", b"3"), ("content-length", b"4")],
            &[("content-length", b"")],
            &[("content-length", b"+3")],
            &[("content-length", b"3\xff")],
            &[("content-length", b"99999999999999999999999")],
            &[("content-length", b"x"), ("content-length", b"3")],
        ] {
            assert!(framed(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn transfer_codings_and_their_order() {
        assert_eq!(
            framed(&[("Transfer-Encoding", b"chunked")]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framed(&[
                ("transfer-encoding", b"gzip"),
                ("transfer-encoding", b"Chunked")
            ]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framed(&[("transfer-encoding", b"chunked, gzip")]),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            framed(&[("transfer-encoding", b"chunked,")]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framed(&[("transfer-encoding", b"")]),
            Ok(Framing::UntilClose)
        );
        assert!(framed(&[("transfer-encoding", b"chunked"), ("content-length", b"3")]).is_err());
        assert!(
            framed(&[
                ("content-length", b"bad"),
                ("transfer-encoding", b"chunked")
            ])
            .is_err()
        );
    }

    #[test]
    fn bodiless_answers_ignore_the_fields() {
        let d = of(&[("content-length", b"3, 4")]);
        assert_eq!(
            d.framing(&Method::HEAD, StatusCode::OK).ok(),
            Some(Framing::None)
        );
        assert_eq!(
            d.framing(&Method::GET, StatusCode::NO_CONTENT).ok(),
            Some(Framing::None)
        );
        assert_eq!(
            d.framing(&Method::GET, StatusCode::NOT_MODIFIED).ok(),
            Some(Framing::None)
        );
    }

    #[test]
    fn keep_alive_by_version_and_connection_options() {
        assert!(of(&[]).keeps_alive(Version::HTTP_11));
        assert!(!of(&[]).keeps_alive(Version::HTTP_10));
        assert!(of(&[("Connection", b"Keep-Alive")]).keeps_alive(Version::HTTP_10));
        assert!(!of(&[("connection", b"keep-alive, close")]).keeps_alive(Version::HTTP_10));
        assert!(!of(&[("connection", b"upgrade, Close")]).keeps_alive(Version::HTTP_11));
        assert!(
            of(&[("connection", b"close\xff")]).keeps_alive(Version::HTTP_11),
            "not text: ignored"
        );
        assert!(of(&[("x-connection", b"close")]).keeps_alive(Version::HTTP_11));
    }
}
