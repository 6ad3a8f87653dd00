//! Error type and the mapping from hyper / connector failures onto it.
//!
//! Every message built here is assembled from the target's scheme, host and
//! port plus the *library* error descriptions (static strings and OS error
//! text). The request URI path/query and header values never enter a message,
//! because both may carry credentials and these errors end up in logs and, in
//! summarised form, in client-facing problem responses.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::request::Origin;

/// Why an upstream call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// No connection could be established: refused, DNS failure, connect
    /// timeout or TLS handshake failure.
    #[error("upstream unreachable: {reason}")]
    Connect {
        /// Target (`scheme://host:port`) and transport cause.
        reason: String,
    },
    /// The whole call did not finish within [`crate::CallOptions::timeout`].
    #[error("upstream call timed out after {after:?}")]
    Timeout {
        /// The deadline that elapsed.
        after: Duration,
    },
    /// The response body is larger than [`crate::CallOptions::max_body`].
    #[error("upstream response body exceeds the {limit} byte limit")]
    TooLarge {
        /// The configured cap, in bytes.
        limit: usize,
    },
    /// The request could not be sent as given (e.g. relative URI, unsupported
    /// scheme). Nothing went over the wire.
    #[error("invalid upstream request: {reason}")]
    InvalidRequest {
        /// What was wrong, without echoing the URI.
        reason: String,
    },
    /// The exchange started but broke: malformed response, connection closed
    /// or reset before the message was complete.
    #[error("upstream protocol error: {reason}")]
    Protocol {
        /// Target (`scheme://host:port`) and transport cause.
        reason: String,
    },
}

impl UpstreamError {
    /// Short, stable code for logs, metrics and problem documents.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect { .. } => "upstream_unreachable",
            Self::Timeout { .. } => "upstream_timeout",
            Self::TooLarge { .. } => "upstream_too_large",
            Self::InvalidRequest { .. } => "upstream_invalid_request",
            Self::Protocol { .. } => "upstream_protocol",
        }
    }

    /// `true` for [`UpstreamError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// `true` for [`UpstreamError::Connect`].
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect { .. })
    }

    /// `true` for [`UpstreamError::TooLarge`].
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge { .. })
    }
}

/// The HTTP client could not be constructed (TLS configuration rejected).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the upstream HTTP client: {reason}")]
pub struct BuildError {
    reason: String,
}

impl BuildError {
    pub(crate) fn new(reason: impl fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
        }
    }
}

/// Maps a failure to open a connection (TCP connect, TLS, HTTP handshake).
pub(crate) fn from_connect(err: &(dyn StdError + 'static), target: &Origin) -> UpstreamError {
    UpstreamError::Connect {
        reason: with_target(target, err),
    }
}

fn with_target(target: &Origin, err: &(dyn StdError + 'static)) -> String {
    format!("{target}: {}", describe(err))
}

/// Joins the error chain into one line.
///
/// Adjacent duplicates are skipped because `io::Error` wrapping repeats its
/// inner text.
fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut last = String::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let msg = e.to_string();
        if msg != last && !last.ends_with(&msg) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            let _ = write!(out, "{msg}");
        }
        last = msg;
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable() {
        let cases = [
            (
                UpstreamError::Connect {
                    reason: String::new(),
                },
                "upstream_unreachable",
            ),
            (
                UpstreamError::Timeout {
                    after: Duration::from_secs(1),
                },
                "upstream_timeout",
            ),
            (UpstreamError::TooLarge { limit: 1 }, "upstream_too_large"),
            (
                UpstreamError::InvalidRequest {
                    reason: String::new(),
                },
                "upstream_invalid_request",
            ),
            (
                UpstreamError::Protocol {
                    reason: String::new(),
                },
                "upstream_protocol",
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind);
        }
    }

    #[test]
    fn describe_dedups_wrapped_io_errors() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(describe(&inner), "refused");
    }
}
