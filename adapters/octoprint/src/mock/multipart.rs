//! A small `multipart/form-data` reader, enough for the uploads the mock receives.

/// One part of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The field name.
    pub name: String,
    /// The file name, for file parts.
    pub filename: Option<String>,
    /// The content.
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn param(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Splits a body into its parts; `None` when it is not a well-formed form.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0)? + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(parts);
        }
        pos += 2; // CRLF after the delimiter
        let header_end = find(body, b"\r\n\r\n", pos)?;
        let headers = String::from_utf8_lossy(&body[pos..header_end]).into_owned();
        let data_start = header_end + 4;
        let mut next_delim = delim.clone();
        next_delim.splice(0..0, *b"\r\n");
        let data_end = find(body, &next_delim, data_start)?;
        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .to_string();
        parts.push(Part {
            name: param(&disposition, "name")?,
            filename: param(&disposition, "filename"),
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\nsub\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.gcode\"\r\nContent-Type: application/octet-stream\r\n\r\nG28\r\nG1 X1\r\n--XyZ--\r\n";
        let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
        let parts = parse(body, &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "path");
        assert_eq!(parts[0].data, b"sub");
        assert_eq!(parts[1].filename.as_deref(), Some("a b.gcode"));
        assert_eq!(parts[1].data, b"G28\r\nG1 X1");
        assert!(boundary("application/json").is_none());
        assert!(parse(b"garbage", "XyZ").is_none());
    }
}
