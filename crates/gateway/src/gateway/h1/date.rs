//! The `date` header every answer carries (RFC 9110 §6.6.1: an origin with a clock
//! sends it), formatted once per second per thread rather than per answer.

use std::cell::RefCell;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
const LEN: usize = 29;

struct Cached {
    second: u64,
    text: [u8; LEN],
}

thread_local! {
    static CACHED: RefCell<Cached> = const { RefCell::new(Cached { second: u64::MAX, text: [0; LEN] }) };
}

/// Appends `date: <now>\r\n` to `out`.
pub(super) fn write_header(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    out.extend_from_slice(b"date: ");
    CACHED.with_borrow_mut(|c| {
        if c.second != second {
            let mut text = [0u8; LEN];
            let mut w = &mut text[..];
            // Always exactly LEN bytes for years 1970..=9999.
            let _ = write!(w, "{}", httpdate::HttpDate::from(now));
            c.text = text;
            c.second = second;
        }
        out.extend_from_slice(&c.text);
    });
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_imf_fixdate_that_parses_back_to_now() {
        let mut out = Vec::new();
        write_header(&mut out);
        let text = std::str::from_utf8(&out).unwrap_or_default();
        let value = text
            .strip_prefix("date: ")
            .and_then(|t| t.strip_suffix("\r\n"))
            .unwrap_or_default();
        assert_eq!(value.len(), LEN, "{text:?}");
        let parsed = httpdate::parse_http_date(value).map_err(|e| e.to_string());
        let age = parsed.and_then(|t| {
            SystemTime::now()
                .duration_since(t)
                .map_err(|e| e.to_string())
        });
        assert!(age.is_ok_and(|a| a.as_secs() < 5), "{text:?}");
    }
}
