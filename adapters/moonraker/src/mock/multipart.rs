//! A small `multipart/form-data` reader, enough for the uploads the mock receives.

/// One field of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// The file name, for a file.
    pub filename: Option<String>,
    /// The content.
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn param(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The fields of a body; `None` when it is not a well-formed form.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Field>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut at = find(body, &delimiter, 0)? + delimiter.len();
    let mut fields = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(fields);
        }
        at += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", at)?;
        let head = String::from_utf8_lossy(&body[at..head_end]).into_owned();
        let data_start = head_end + 4;
        let next = find(body, &delimiter, data_start)?;
        let data_end = next.checked_sub(2).filter(|e| *e >= data_start)?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .to_string();
        fields.push(Field {
            name: param(&disposition, "name")?,
            filename: param(&disposition, "filename"),
            data: body[data_start..data_end].to_vec(),
        });
        at = next + delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_form() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"root\"\r\n\r\ngcodes\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.gcode\"\r\nContent-Type: application/octet-stream\r\n\r\nG28\r\nG1 X1\r\n--XyZ--\r\n";
        let f = parse(body, "XyZ").unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].name.as_str(), f[0].data.as_slice()),
            ("root", &b"gcodes"[..])
        );
        assert_eq!(f[1].filename.as_deref(), Some("a b.gcode"));
        assert_eq!(f[1].data, b"G28\r\nG1 X1");
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert!(boundary("application/json").is_none());
        for bad in [
            &b""[..],
            b"--XyZ",
            b"--XyZ\r\nno head end",
            b"--XyZ\r\n\r\n\r\nx",
        ] {
            assert!(parse(bad, "XyZ").is_none());
        }
    }
}
