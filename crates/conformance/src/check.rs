//! Comparing what was observed with what a case expects; every mismatch becomes one
//! human-readable line (JSON differences are listed path by path).

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::case::{
    OneOrMany, ResponseExpect, ResultExpect, RpcErrorExpect, UpstreamExpect, UpstreamRequestExpect,
};
use crate::http::HttpResponse;
use crate::upstream::{Seen, clip};

mod json;

pub(crate) use json::{json_asserts, json_diff};

/// Mismatches found so far, each prefixed with where it was found.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, s: impl Into<String>) {
        self.0.push(s.into());
    }
}

fn compact(v: &Value) -> String {
    clip(&v.to_string(), 400)
}

fn regex(pattern: &str, what: &str, problems: &mut Problems) -> Option<Regex> {
    match Regex::new(pattern) {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(format!(
                "{what}: invalid regex `{pattern}` in the case: {e}"
            ));
            None
        }
    }
}

fn header_checks(
    what: &str,
    all: &dyn Fn(&str) -> Vec<String>,
    exact: &BTreeMap<String, String>,
    matching: &BTreeMap<String, String>,
    absent: &[String],
    p: &mut Problems,
) {
    for (k, v) in exact {
        let got = all(k);
        if !got.iter().any(|g| g == v) {
            p.push(format!(
                "{what} header `{k}`: expected `{v}`, got {}",
                show_values(&got)
            ));
        }
    }
    for (k, pat) in matching {
        let got = all(k);
        if let Some(re) = regex(pat, what, p)
            && !got.iter().any(|g| re.is_match(g))
        {
            p.push(format!(
                "{what} header `{k}`: expected a value matching /{pat}/, got {}",
                show_values(&got)
            ));
        }
    }
    for k in absent {
        let got = all(k);
        if !got.is_empty() {
            p.push(format!(
                "{what} header `{k}`: expected absent, got {}",
                show_values(&got)
            ));
        }
    }
}

fn show_values(v: &[String]) -> String {
    if v.is_empty() {
        "nothing".into()
    } else {
        v.iter()
            .map(|s| format!("`{}`", clip(s, 200)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn query_multiset(q: &BTreeMap<String, OneOrMany>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = q
        .iter()
        .flat_map(|(k, v)| v.values().into_iter().map(move |x| (k.clone(), x)))
        .collect();
    out.sort();
    out
}

fn show_pairs(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return "(none)".into();
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks the upstream requests seen during one step.
pub(crate) fn upstream(expect: &UpstreamExpect, seen: &[Seen], p: &mut Problems) {
    let list = match expect {
        UpstreamExpect::Keyword(k) => {
            if k != "none" {
                p.push(format!(
                    "upstream: unknown keyword `{k}` in the case (use `none`)"
                ));
            } else if !seen.is_empty() {
                p.push(format!(
                    "upstream: expected no request, got {}: {}",
                    seen.len(),
                    seen.iter()
                        .map(Seen::summary)
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
            return;
        }
        UpstreamExpect::Requests(list) => list,
    };
    if list.len() != seen.len() {
        p.push(format!(
            "upstream: expected {} request(s), got {}{}",
            list.len(),
            seen.len(),
            if seen.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    seen.iter()
                        .map(Seen::summary)
                        .collect::<Vec<_>>()
                        .join(" | ")
                )
            }
        ));
    }
    for (i, (e, s)) in list.iter().zip(seen).enumerate() {
        let what = if list.len() == 1 {
            "upstream request".to_string()
        } else {
            format!("upstream request #{}", i + 1)
        };
        upstream_one(&what, e, s, p);
    }
}

fn upstream_one(what: &str, e: &UpstreamRequestExpect, s: &Seen, p: &mut Problems) {
    if let Some(m) = &e.method
        && !m.eq_ignore_ascii_case(&s.method)
    {
        p.push(format!("{what} method: expected {m}, got {}", s.method));
    }
    if let Some(path) = &e.path
        && path != &s.path
    {
        p.push(format!("{what} path: expected `{path}`, got `{}`", s.path));
    }
    let mut pairs = s.query_pairs();
    pairs.sort();
    if let Some(q) = &e.query {
        let want = query_multiset(q);
        if want != pairs {
            p.push(format!(
                "{what} query: expected exactly {}, got {} (raw `{}`)",
                show_pairs(&want),
                show_pairs(&pairs),
                s.query.as_deref().unwrap_or("")
            ));
        }
    }
    if !e.query_includes.is_empty() {
        let mut rest = pairs.clone();
        for (k, v) in query_multiset(&e.query_includes) {
            match rest.iter().position(|(rk, rv)| *rk == k && *rv == v) {
                Some(i) => {
                    rest.remove(i);
                }
                None => p.push(format!(
                    "{what} query: expected {k}={v}, got {} (raw `{}`)",
                    show_pairs(&pairs),
                    s.query.as_deref().unwrap_or("")
                )),
            }
        }
    }
    for k in &e.query_excludes {
        if pairs.iter().any(|(pk, _)| pk == k) {
            p.push(format!(
                "{what} query: `{k}` must not be sent, got {}",
                show_pairs(&pairs)
            ));
        }
    }
    let all =
        |name: &str| -> Vec<String> { s.header_all(name).into_iter().map(str::to_owned).collect() };
    header_checks(
        what,
        &all,
        &e.headers,
        &e.headers_match,
        &e.headers_absent,
        p,
    );
    let text = String::from_utf8_lossy(&s.body).into_owned();
    if let Some(want) = &e.body {
        match serde_json::from_slice::<Value>(&s.body) {
            Ok(got) => {
                for d in json_diff(want, &got) {
                    p.push(format!("{what} body {d}"));
                }
            }
            Err(err) => p.push(format!(
                "{what} body: expected JSON {}, got non-JSON `{}` ({err})",
                compact(want),
                clip(&text, 300)
            )),
        }
    }
    if let Some(want) = &e.body_text
        && want != &text
    {
        p.push(format!(
            "{what} body: expected bytes `{}`, got `{}`",
            clip(want, 300),
            clip(&text, 300)
        ));
    }
    if e.body_empty == Some(true) && !s.body.is_empty() {
        p.push(format!(
            "{what} body: expected empty, got `{}`",
            clip(&text, 300)
        ));
    }
    for c in &e.body_contains {
        if !text.contains(c.as_str()) {
            p.push(format!(
                "{what} body: expected to contain `{c}`, got `{}`",
                clip(&text, 300)
            ));
        }
    }
}

/// Checks an HTTP response.
pub(crate) fn response(e: &ResponseExpect, r: &HttpResponse, p: &mut Problems) {
    let text = String::from_utf8_lossy(&r.body).into_owned();
    if let Some(st) = &e.status
        && !st.accepts(r.status)
    {
        p.push(format!(
            "response status: expected {}, got {} (body `{}`)",
            st.describe(),
            r.status,
            clip(&text, 300)
        ));
    }
    let all =
        |name: &str| -> Vec<String> { r.header_all(name).into_iter().map(str::to_owned).collect() };
    header_checks(
        "response",
        &all,
        &e.headers,
        &e.headers_match,
        &e.headers_absent,
        p,
    );
    let needs_json = e.body.is_some() || !e.json.is_empty();
    let parsed = if needs_json {
        match body_json(r) {
            Ok(v) => Some(v),
            Err(err) => {
                p.push(format!(
                    "response body: expected JSON, got `{}` ({err})",
                    clip(&text, 300)
                ));
                None
            }
        }
    } else {
        None
    };
    if let (Some(want), Some(got)) = (&e.body, &parsed) {
        for d in json_diff(want, got) {
            p.push(format!("response body {d}"));
        }
    }
    if let Some(got) = &parsed {
        json_asserts("response body", got, &e.json, p);
    }
    if let Some(want) = &e.body_text
        && want != &text
    {
        p.push(format!(
            "response body: expected `{}`, got `{}`",
            clip(want, 300),
            clip(&text, 300)
        ));
    }
    if e.body_empty == Some(true) && !r.body.is_empty() {
        p.push(format!(
            "response body: expected empty, got `{}`",
            clip(&text, 300)
        ));
    }
    for c in &e.body_contains {
        if !text.contains(c.as_str()) {
            p.push(format!(
                "response body: expected to contain `{c}`, got `{}`",
                clip(&text, 300)
            ));
        }
    }
    for c in &e.body_excludes {
        if text.contains(c.as_str()) {
            p.push(format!(
                "response body: must not contain `{c}`, got `{}`",
                clip(&text, 300)
            ));
        }
    }
}

/// The response body as JSON (the JSON-RPC response event when it is an SSE stream).
pub(crate) fn body_json(r: &HttpResponse) -> Result<Value, String> {
    if r.is_sse() {
        return crate::http::sse_response(&r.body)
            .ok_or_else(|| "no JSON-RPC response in the event stream".to_string());
    }
    serde_json::from_slice(&r.body).map_err(|e| e.to_string())
}

/// Checks a JSON-RPC `result`.
pub(crate) fn result(e: &ResultExpect, envelope: &Value, p: &mut Problems) {
    let Some(res) = envelope.get("result") else {
        p.push(format!(
            "expected a JSON-RPC result, got {}",
            compact(envelope)
        ));
        return;
    };
    if let Some(want) = e.is_error {
        let got = res.get("isError").and_then(Value::as_bool).unwrap_or(false);
        if want != got {
            p.push(format!(
                "result isError: expected {want}, got {got} (content {})",
                compact(res.get("content").unwrap_or(&Value::Null))
            ));
        }
    }
    let texts: Vec<&str> = res
        .get("content")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if let Some(want) = &e.text_json {
        let first = res
            .get("content")
            .and_then(|c| c.get(0))
            .and_then(|i| i.get("text"))
            .and_then(Value::as_str);
        match first.map(serde_json::from_str::<Value>) {
            None => p.push(format!(
                "result content[0].text: missing (result {})",
                compact(res)
            )),
            Some(Err(err)) => p.push(format!(
                "result content[0].text: not JSON ({err}): `{}`",
                clip(first.unwrap_or(""), 300)
            )),
            Some(Ok(got)) => {
                for d in json_diff(want, &got) {
                    p.push(format!("result content[0].text {d}"));
                }
            }
        }
    }
    let joined = texts.join("\n");
    for c in &e.text_contains {
        if !joined.contains(c.as_str()) {
            p.push(format!(
                "result text: expected to contain `{c}`, got `{}`",
                clip(&joined, 300)
            ));
        }
    }
    for c in &e.text_excludes {
        if joined.contains(c.as_str()) {
            p.push(format!(
                "result text: must not contain `{c}`, got `{}`",
                clip(&joined, 300)
            ));
        }
    }
    if let Some(want) = &e.structured_content {
        match res.get("structuredContent") {
            None => p.push(format!(
                "result structuredContent: missing (expected {})",
                compact(want)
            )),
            Some(got) => {
                for d in json_diff(want, got) {
                    p.push(format!("result structuredContent {d}"));
                }
            }
        }
    }
    json_asserts("result", res, &e.json, p);
}

/// Checks a JSON-RPC `error`.
pub(crate) fn rpc_error(e: &RpcErrorExpect, envelope: &Value, p: &mut Problems) {
    let Some(err) = envelope.get("error") else {
        p.push(format!(
            "expected a JSON-RPC error, got {}",
            compact(envelope)
        ));
        return;
    };
    if let Some(code) = e.code {
        let got = err.get("code").and_then(Value::as_i64);
        if got != Some(code) {
            p.push(format!(
                "error code: expected {code}, got {} ({})",
                got.map_or("none".to_string(), |c| c.to_string()),
                compact(err)
            ));
        }
    }
    if let Some(m) = &e.message_matches {
        let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
        if let Some(re) = regex(m, "error message", p)
            && !re.is_match(msg)
        {
            p.push(format!("error message: `{msg}` does not match /{m}/"));
        }
    }
}
