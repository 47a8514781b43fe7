//! HTTP Digest access authentication (RFC 7616, with RFC 2617's MD5 and MD5-sess), for
//! servers that take neither a key header nor Basic auth (PrusaLink's user `maker`).
//!
//! The [`Transport`](crate::transport::Transport) uses it through
//! [`Auth::Digest`](crate::transport::Auth::Digest): the server's 401 carries a
//! [`Challenge`]; the transport keeps it and answers it on every later request with a fresh
//! client nonce and the next nonce count, so a challenge costs one extra round trip per
//! client, not per request. Mocks use the same code to check an answer ([`verify`]).
//!
//! Only MD5 and MD5-sess with `qop=auth` (or no qop) are implemented: the algorithms the
//! servers polyprint speaks to ask for. A challenge for another algorithm (SHA-256) or for
//! `auth-int` alone is refused with a clear [`Error::Auth`].
//!
//! ```
//! use polyprint::digest::{Challenge, Answer};
//!
//! let c = Challenge::parse(r#"Digest realm="Administrator",qop="auth",algorithm="MD5-sess",nonce="abc",opaque="xyz""#).unwrap();
//! let answer = Answer::new(&c, "maker", "secret", "GET", "/api/v1/status", 1, "0a4f113b");
//! let header = answer.header();
//! assert!(header.starts_with(r#"Digest username="maker", realm="Administrator""#));
//! assert!(polyprint::digest::verify(&header, "GET", "maker", "secret", "Administrator", "abc", &["MD5-sess"]));
//! ```

use md5::{Digest as _, Md5};

use crate::error::{Error, Result};

/// A digest algorithm this module implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5` (RFC 2617's default).
    Md5,
    /// `MD5-sess`: the first hash also covers the nonces.
    Md5Sess,
}

impl Algorithm {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
        }
    }

    fn parse(name: &str) -> Option<Algorithm> {
        if name.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if name.eq_ignore_ascii_case("MD5-sess") {
            Some(Algorithm::Md5Sess)
        } else {
            None
        }
    }
}

/// A server's `WWW-Authenticate: Digest ...` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space (PrusaLink: `Administrator`).
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Echoed back unchanged, when given.
    pub opaque: Option<String>,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Whether the server asked for `qop=auth` (otherwise RFC 2069 style, no qop).
    pub qop_auth: bool,
    /// The server said the previous nonce went stale (the credentials were right).
    pub stale: bool,
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value. Several challenges in one header are allowed; the
    /// first Digest one is taken. Errors say why a server's Digest challenge cannot be
    /// answered.
    pub fn parse(header: &str) -> Result<Challenge> {
        let start = find_scheme(header, "digest").ok_or_else(|| Error::Auth {
            message: "the server's challenge is not HTTP Digest".into(),
        })?;
        let params = parse_params(&header[start..]);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let nonce = get("nonce")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::Auth {
                message: "the server's Digest challenge has no nonce".into(),
            })?;
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => Algorithm::parse(&a).ok_or_else(|| Error::Auth {
                message: format!(
                    "the server asks for Digest algorithm {:?}; polyprint answers MD5 and MD5-sess",
                    crate::transport::snippet(a.as_bytes())
                ),
            })?,
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(q) if q.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth")) => true,
            Some(q) => {
                return Err(Error::Auth {
                    message: format!(
                        "the server asks for Digest qop {:?}; polyprint answers qop=auth",
                        crate::transport::snippet(q.as_bytes())
                    ),
                })
            }
        };
        Ok(Challenge {
            realm: get("realm").unwrap_or_default(),
            nonce,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The challenge `WWW-Authenticate` value a server sends (mocks).
    pub fn header(&self) -> String {
        let mut h = format!("Digest realm=\"{}\"", self.realm);
        if self.qop_auth {
            h.push_str(",qop=\"auth\"");
        }
        h.push_str(&format!(
            ",algorithm=\"{}\",nonce=\"{}\"",
            self.algorithm.name(),
            self.nonce
        ));
        if let Some(o) = &self.opaque {
            h.push_str(&format!(",opaque=\"{o}\""));
        }
        if self.stale {
            h.push_str(",stale=true");
        }
        h
    }
}

/// Where `scheme` starts as an auth scheme token in a header value (case-insensitive), just
/// after its name.
fn find_scheme(header: &str, scheme: &str) -> Option<usize> {
    let lower = header.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(scheme) {
        let at = from + i;
        let end = at + scheme.len();
        let before_ok = at == 0 || matches!(lower.as_bytes()[at - 1], b' ' | b',' | b'\t');
        let after_ok = lower.as_bytes().get(end).is_some_and(|b| *b == b' ');
        if before_ok && after_ok {
            return Some(end);
        }
        from = end;
    }
    None
}

/// `name=value` and `name="quoted value"` pairs, separated by commas, up to the next scheme.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim();
        if name.is_empty() || name.contains(' ') {
            break; // the next challenge's scheme
        }
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.push((name.to_string(), value));
    }
    out
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The answer to a challenge for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    username: String,
    realm: String,
    nonce: String,
    uri: String,
    algorithm: Algorithm,
    qop_auth: bool,
    nc: u32,
    cnonce: String,
    response: String,
    opaque: Option<String>,
}

impl Answer {
    /// Answers `challenge` for `method` on `uri` (path and query, as sent), as the `nc`-th
    /// use of its nonce, with the client nonce `cnonce`.
    pub fn new(
        challenge: &Challenge,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        nc: u32,
        cnonce: &str,
    ) -> Answer {
        let nc_hex = format!("{nc:08x}");
        let response = response(
            challenge.algorithm,
            challenge.qop_auth,
            &ha1(username, &challenge.realm, password),
            &challenge.nonce,
            &nc_hex,
            cnonce,
            method,
            uri,
        );
        Answer {
            username: username.to_string(),
            realm: challenge.realm.clone(),
            nonce: challenge.nonce.clone(),
            uri: uri.to_string(),
            algorithm: challenge.algorithm,
            qop_auth: challenge.qop_auth,
            nc,
            cnonce: cnonce.to_string(),
            response,
            opaque: challenge.opaque.clone(),
        }
    }

    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        let mut h = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm={}, response=\"{}\"",
            quoted(&self.username),
            quoted(&self.realm),
            quoted(&self.nonce),
            quoted(&self.uri),
            self.algorithm.name(),
            self.response
        );
        if self.qop_auth {
            h.push_str(&format!(
                ", qop=auth, nc={:08x}, cnonce=\"{}\"",
                self.nc, self.cnonce
            ));
        }
        if let Some(o) = &self.opaque {
            h.push_str(&format!(", opaque=\"{}\"", quoted(o)));
        }
        h
    }
}

fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `H(user:realm:password)`: what a server stores instead of the password (PrusaLink's
/// `digest` setting).
pub fn ha1(username: &str, realm: &str, password: &str) -> String {
    md5_hex(&[username, realm, password])
}

#[allow(clippy::too_many_arguments)]
fn response(
    algorithm: Algorithm,
    qop_auth: bool,
    ha1: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    method: &str,
    uri: &str,
) -> String {
    let ha1 = match algorithm {
        Algorithm::Md5 => ha1.to_string(),
        Algorithm::Md5Sess => md5_hex(&[ha1, nonce, cnonce]),
    };
    let ha2 = md5_hex(&[method, uri]);
    if qop_auth {
        md5_hex(&[&ha1, nonce, nc, cnonce, "auth", &ha2])
    } else {
        md5_hex(&[&ha1, nonce, &ha2])
    }
}

/// Checks an `Authorization: Digest` value the way a server does (mocks): the user, realm
/// and nonce must be the expected ones, the algorithm one of `algorithms` (by wire name), and
/// the response right for `method` and the header's own `uri`.
pub fn verify(
    header: &str,
    method: &str,
    username: &str,
    password: &str,
    realm: &str,
    nonce: &str,
    algorithms: &[&str],
) -> bool {
    let Some(start) = find_scheme(header, "digest") else {
        return false;
    };
    let params = parse_params(&header[start..]);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let algorithm_name = get("algorithm").unwrap_or("MD5");
    let Some(algorithm) = Algorithm::parse(algorithm_name) else {
        return false;
    };
    if !algorithms
        .iter()
        .any(|a| a.eq_ignore_ascii_case(algorithm_name))
    {
        return false;
    }
    if get("username") != Some(username) || get("realm") != Some(realm) {
        return false;
    }
    if get("nonce") != Some(nonce) {
        return false;
    }
    let (Some(uri), Some(given)) = (get("uri"), get("response")) else {
        return false;
    };
    let qop_auth = get("qop").is_some_and(|q| q.eq_ignore_ascii_case("auth"));
    let expected = response(
        algorithm,
        qop_auth,
        &ha1(username, realm, password),
        nonce,
        get("nc").unwrap_or(""),
        get("cnonce").unwrap_or(""),
        method,
        uri,
    );
    expected.eq_ignore_ascii_case(given)
}

/// A fresh client nonce: 16 random hex digits.
pub fn cnonce() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5's worked example (MD5, qop=auth).
    #[test]
    fn rfc2617_example() {
        let c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert!(c.qop_auth);
        let a = Answer::new(
            &c,
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            1,
            "0a4f113b",
        );
        assert_eq!(a.response, "6629fae49393a05397450978507c4ef1");
        let h = a.header();
        assert!(h.contains("nc=00000001, cnonce=\"0a4f113b\""), "{h}");
        assert!(
            h.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
            "{h}"
        );
        assert!(verify(
            &h,
            "GET",
            "Mufasa",
            "Circle Of Life",
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            &["MD5"]
        ));
        assert!(!verify(
            &h,
            "POST",
            "Mufasa",
            "Circle Of Life",
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            &["MD5"]
        ));
        assert!(!verify(
            &h,
            "GET",
            "Mufasa",
            "wrong",
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            &["MD5"]
        ));
    }

    /// PrusaLink's challenge (recorded), answered with MD5-sess; a server that takes only
    /// MD5-sess refuses a plain-MD5 answer.
    #[test]
    fn prusalink_md5_sess() {
        let c = Challenge::parse(r#"Digest realm="Administrator",qop="auth",algorithm="MD5-sess",nonce="6ef8cd024d7f82861812d9d88c91fa05f0f955675efcfc99d278aaf535ec8d15",opaque="49960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d9763""#).unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5Sess);
        assert_eq!(c.realm, "Administrator");
        // PrusaLink stores HA1 for the spec's password.
        assert_eq!(
            ha1("maker", "Administrator", "polyprint-pass1"),
            "179bbd210a86d27d04b1e19d10406794"
        );
        let h = Answer::new(
            &c,
            "maker",
            "polyprint-pass1",
            "PUT",
            "/api/v1/job/1/pause",
            7,
            "abcdef",
        )
        .header();
        assert!(verify(
            &h,
            "PUT",
            "maker",
            "polyprint-pass1",
            "Administrator",
            &c.nonce,
            &["MD5-sess"]
        ));
        let plain = Challenge {
            algorithm: Algorithm::Md5,
            ..c.clone()
        };
        let h = Answer::new(&plain, "maker", "polyprint-pass1", "GET", "/", 1, "x").header();
        assert!(!verify(
            &h,
            "GET",
            "maker",
            "polyprint-pass1",
            "Administrator",
            &c.nonce,
            &["MD5-sess"]
        ));
        // The mock's own header round-trips.
        assert_eq!(Challenge::parse(&c.header()).unwrap(), c);
    }

    #[test]
    fn challenges_that_cannot_be_answered_say_why() {
        for (header, says) in [
            (r#"Basic realm="x""#, "not HTTP Digest"),
            (r#"Digest realm="x""#, "no nonce"),
            (
                r#"Digest realm="x", nonce="n", algorithm=SHA-256"#,
                "SHA-256",
            ),
            (r#"Digest realm="x", nonce="n", qop="auth-int""#, "auth-int"),
        ] {
            let e = Challenge::parse(header).unwrap_err();
            assert!(matches!(e, Error::Auth { .. }), "{header}: {e:?}");
            assert!(e.to_string().contains(says), "{header}: {e}");
        }
        // Several schemes in one header: the Digest one is found; a hostile value does
        // not panic.
        let c = Challenge::parse(r#"Basic realm="a", Digest realm="b", nonce="n", stale=TRUE"#)
            .unwrap();
        assert_eq!((c.realm.as_str(), c.stale), ("b", true));
        for junk in [
            "Digest ",
            "Digest =",
            "Digest nonce=\"",
            "Digest nonce=\"a\\",
            "Digest a=b=c,,,nonce=1",
            "digest nonce=é\"ü",
        ] {
            let _ = Challenge::parse(junk);
        }
        assert_eq!(
            Challenge::parse(r#"Digest nonce="a\"b""#).unwrap().nonce,
            "a\"b"
        );
    }
}
