//! `multipart/form-data` (RFC 7578) for the portal's one file form, the
//! decommissioning photo: the text fields become a [`Form`] (so the CSRF
//! check is the usual one) and the files are kept as bytes. Only what a
//! browser sends is read: `Content-Disposition: form-data; name=...;
//! filename=...` and an optional `Content-Type` per part.

use super::Form;
use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// A file part.
pub struct FilePart {
    pub name: String,
    /// As the browser declared it (`image/png`...), lower case.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A parsed multipart form.
pub struct Multipart {
    pub form: Form,
    pub files: Vec<FilePart>,
}

impl Multipart {
    pub fn file(&self, name: &str) -> Option<&FilePart> {
        self.files.iter().find(|f| f.name == name)
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()] == *needle)
}

/// A parameter of a header value: `name="x"` or `name=x`.
fn param(value: &str, key: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(key) {
            return None;
        }
        let v = v.trim();
        Some(
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
                .to_owned(),
        )
    })
}

/// Parses a body whose `Content-Type` is `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Multipart, Problem> {
    let bad = || Problem::invalid("photo", "a multipart/form-data form");
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(bad());
    }
    let boundary = param(content_type, "boundary").ok_or_else(bad)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    let mut at = find(body, &delimiter, 0).ok_or_else(bad)? + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            break;
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(bad());
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or_else(bad)?;
        let head = std::str::from_utf8(&body[at..head_end]).map_err(|_| bad())?;
        let data_start = head_end + 4;
        let data_end = find(body, &next_delimiter, data_start).ok_or_else(bad)?;
        let (mut disposition, mut ctype) = (None, String::new());
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                disposition = Some(v.trim().to_owned());
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                ctype = v.trim().to_ascii_lowercase();
            }
        }
        let disposition = disposition.ok_or_else(bad)?;
        let name = param(&disposition, "name").ok_or_else(bad)?;
        let data = &body[data_start..data_end];
        match param(&disposition, "filename") {
            Some(_) => files.push(FilePart {
                name,
                content_type: ctype,
                data: data.to_vec(),
            }),
            None => {
                let text = String::from_utf8(data.to_vec()).map_err(|_| bad())?;
                fields.insert(name, text);
            }
        }
        at = data_end + next_delimiter.len();
    }
    Ok(Multipart {
        form: Form(fields),
        files,
    })
}

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| (StatusCode::PAYLOAD_TOO_LARGE, e.body_text()).into_response())?;
        // A body that is not multipart keeps no field: the CSRF check of
        // the empty form refuses it.
        Ok(parse(&ctype, &bytes).unwrap_or(Multipart {
            form: Form(HashMap::new()),
            files: Vec::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_form_with_a_file() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--\r\n--XyZ--\r\n";
        let m = parse("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(m.form.get("_csrf"), "abc");
        let f = m.file("photo").unwrap();
        assert_eq!(f.content_type, "image/png");
        assert_eq!(f.data, b"\x89PNG\r\n--");
        assert!(parse("application/x-www-form-urlencoded", body).is_err());
        assert!(parse("multipart/form-data; boundary=Other", body).is_err());
    }
}
