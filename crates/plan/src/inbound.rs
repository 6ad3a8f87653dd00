//! Reading an adapter's request body: shared by REST and MCP so both apply the same
//! size limit the same way.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;

/// Why [`read_body`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// More than the limit arrived (or was declared).
    #[error("request body exceeds the limit")]
    TooLarge,
    /// The body was cut off or badly framed.
    #[error("the request body could not be read")]
    Unreadable,
}

/// The whole body, at most `max` bytes. Read frame by frame as hyper hands it over: a
/// body that comes in one frame (as most API requests do) is kept as it is, without a
/// boxed body, a buffer list or a copy.
pub async fn read_body<B>(body: B, max: usize) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
{
    if body.size_hint().lower() > max as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut body = std::pin::pin!(body);
    let mut first = Bytes::new();
    let mut more: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        // Once `more` is started it holds `first` too.
        let total = more.as_ref().map_or(first.len(), BytesMut::len) + data.len();
        if total > max {
            return Err(BodyError::TooLarge);
        }
        match &mut more {
            _ if first.is_empty() => first = data,
            Some(more) => more.extend_from_slice(&data),
            None => {
                let mut joined = BytesMut::with_capacity(total);
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&data);
                more = Some(joined);
            }
        }
    }
    Ok(more.map_or(first, BytesMut::freeze))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body::Frame;
    use http_body_util::StreamBody;

    use super::*;

    fn frames(parts: &[&'static str]) -> impl http_body::Body<Data = Bytes, Error = Infallible> {
        let items: Vec<Result<Frame<Bytes>, Infallible>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p.as_bytes()))))
            .collect();
        StreamBody::new(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn frames_are_joined_up_to_the_limit() {
        assert_eq!(read_body(frames(&[]), 4).await.unwrap(), "");
        assert_eq!(read_body(frames(&["ab"]), 4).await.unwrap(), "ab");
        assert_eq!(
            read_body(frames(&["a", "", "b", "cd"]), 4).await.unwrap(),
            "abcd"
        );
        assert_eq!(
            read_body(frames(&["ab", "cde"]), 4).await,
            Err(BodyError::TooLarge)
        );
        let declared = http_body_util::Full::new(Bytes::from_static(b"abcde"));
        assert_eq!(read_body(declared, 4).await, Err(BodyError::TooLarge));
    }
}
