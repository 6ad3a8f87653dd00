//! What can go wrong while invoking an operation, classified by who is at fault.

use http::StatusCode;
use naftiko_upstream::UpstreamError;

/// Who caused an [`InvokeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The caller sent something unusable (4xx).
    Caller,
    /// The upstream failed or answered something unusable (502/504).
    Upstream,
    /// A bug or an impossible state in the gateway (500).
    Internal,
}

/// Why an invocation failed. Messages never contain bind values or upstream credentials.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// A required input (e.g. a path variable) has no value.
    #[error("missing required input '{name}'")]
    MissingInput {
        /// The input's name as the caller would write it.
        name: String,
    },
    /// An input has a value of the wrong type or form.
    #[error("invalid value for '{name}': {reason}")]
    BadInput {
        /// The input's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request body is needed and is not valid JSON.
    #[error("invalid JSON body: {reason}")]
    InvalidBody {
        /// The parser's message.
        reason: String,
    },
    /// The upstream could not be reached, timed out, or sent too much.
    #[error("upstream '{namespace}' failed: {source}")]
    Upstream {
        /// Consumes namespace.
        namespace: String,
        /// What happened.
        #[source]
        source: UpstreamError,
    },
    /// The upstream answered a body the output mapping cannot read.
    #[error(
        "operation '{operation}': upstream answered {status} with a {content_type} body that is not JSON"
    )]
    BadUpstreamBody {
        /// `namespace.operation`.
        operation: String,
        /// The upstream status.
        status: u16,
        /// The upstream content type.
        content_type: String,
    },
    /// The capability uses a construct this runtime does not execute yet.
    #[error("{what} are not supported by this runtime yet")]
    Unsupported {
        /// The construct, plural (`orchestration steps`).
        what: &'static str,
    },
    /// Our fault.
    #[error("internal error: {reason}")]
    Internal {
        /// What went wrong.
        reason: String,
    },
}

impl InvokeError {
    /// Who is at fault.
    pub fn fault(&self) -> Fault {
        match self {
            Self::MissingInput { .. } | Self::BadInput { .. } | Self::InvalidBody { .. } => {
                Fault::Caller
            }
            Self::Upstream { .. } | Self::BadUpstreamBody { .. } => Fault::Upstream,
            Self::Internal { .. } | Self::Unsupported { .. } => Fault::Internal,
        }
    }

    /// A short stable code, e.g. `missing_input`, `upstream_timeout`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingInput { .. } => "missing_input",
            Self::BadInput { .. } => "invalid_input",
            Self::InvalidBody { .. } => "invalid_body",
            Self::Upstream { source, .. } => source.kind(),
            Self::BadUpstreamBody { .. } => "upstream_bad_body",
            Self::Internal { .. } => "internal_error",
            Self::Unsupported { .. } => "not_implemented",
        }
    }

    /// The HTTP status an HTTP adapter should answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingInput { .. } | Self::BadInput { .. } | Self::InvalidBody { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Upstream { source, .. } if source.is_timeout() => StatusCode::GATEWAY_TIMEOUT,
            Self::Upstream { .. } | Self::BadUpstreamBody { .. } => StatusCode::BAD_GATEWAY,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unsupported { .. } => StatusCode::NOT_IMPLEMENTED,
        }
    }
}
