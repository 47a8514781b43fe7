//! Credentials for Prusa Connect: a bearer access token (a JWT), and optionally a refresh
//! token to get a new one from Prusa Account's token endpoint.
//!
//! * Sources: given directly, from the environment (`PRUSA_CONNECT_TOKEN`, optionally
//!   `PRUSA_CONNECT_REFRESH_TOKEN`), or from a token file (the JSON token set Prusa's own
//!   client stores, `{"access_token": ..., "refresh_token": ...}`, or a bare token).
//! * Refresh is proactive: shortly before the access token's `exp` (read from the JWT, no
//!   signature check) the next request first refreshes it. Refresh tokens rotate on each use,
//!   so the new one is kept (and written back to the token file, mode 0600, when it came from
//!   one). The token endpoint is configurable so tests can point it at a mock.
//! * Tokens are [`Secret`]s: they never appear in `Debug`, logs or errors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use polyprint::transport::{Body, HttpConfig, Idempotency, Request, Secret, Transport};
use polyprint::{Error, Result};
use serde::Deserialize;

/// Prusa Account's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://account.prusa3d.com/o/token/";
/// The OAuth client id of Prusa Connect's web app.
pub const DEFAULT_CLIENT_ID: &str = "MRHTlZhZqkNrrQ6FUPtjyusAz8nc59ErHXP8XkS4";
/// The environment variable holding an access token.
pub const ENV_TOKEN: &str = "PRUSA_CONNECT_TOKEN";
/// The environment variable holding a refresh token.
pub const ENV_REFRESH_TOKEN: &str = "PRUSA_CONNECT_REFRESH_TOKEN";
/// How long before `exp` the access token is refreshed.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// Credentials: an access token, and what is needed to refresh it.
#[derive(Clone)]
pub struct Credentials {
    access: Secret,
    refresh: Option<Secret>,
    // Borrowed defaults: a fleet keeps one set of credentials per printer.
    token_url: Cow<'static, str>,
    client_id: Cow<'static, str>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access", &self.access)
            .field("refresh", &self.refresh)
            .field("token_url", &self.token_url)
            .field("file", &self.file)
            .finish()
    }
}

impl<T: Into<Secret>> From<T> for Credentials {
    fn from(token: T) -> Self {
        Credentials::token(token)
    }
}

#[derive(Deserialize)]
struct TokenSet {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl Credentials {
    /// An access token, given directly.
    pub fn token(access: impl Into<Secret>) -> Credentials {
        Credentials {
            access: access.into(),
            refresh: None,
            token_url: Cow::Borrowed(DEFAULT_TOKEN_URL),
            client_id: Cow::Borrowed(DEFAULT_CLIENT_ID),
            file: None,
        }
    }

    /// Adds a refresh token.
    pub fn with_refresh_token(mut self, refresh: impl Into<Secret>) -> Credentials {
        self.refresh = Some(refresh.into());
        self
    }

    /// Uses another token endpoint (a mock's, in tests).
    pub fn with_token_url(mut self, url: impl Into<String>) -> Credentials {
        self.token_url = Cow::Owned(url.into());
        self
    }

    /// Uses another OAuth client id.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Credentials {
        self.client_id = Cow::Owned(id.into());
        self
    }

    /// From `PRUSA_CONNECT_TOKEN` (and `PRUSA_CONNECT_REFRESH_TOKEN` if set).
    pub fn from_env() -> Result<Credentials> {
        let access = std::env::var(ENV_TOKEN)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| Error::Auth {
                message: format!("{ENV_TOKEN} is not set"),
            })?;
        let mut c = Credentials::token(access.trim());
        if let Some(r) = std::env::var(ENV_REFRESH_TOKEN)
            .ok()
            .filter(|t| !t.trim().is_empty())
        {
            c = c.with_refresh_token(r.trim());
        }
        Ok(c)
    }

    /// From a token file: a JSON token set (`access_token`, optional `refresh_token`) or a bare
    /// token. Refreshed tokens are written back to it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Credentials> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Auth {
            message: format!("cannot read token file {}: {}", path.display(), e.kind()),
        })?;
        let text = text.trim();
        let mut c = if text.starts_with('{') {
            let set: TokenSet = serde_json::from_str(text).map_err(|_| Error::Auth {
                message: format!(
                    "token file {} is not a token set with \"access_token\"",
                    path.display()
                ),
            })?;
            let mut c = Credentials::token(set.access_token);
            if let Some(r) = set.refresh_token {
                c = c.with_refresh_token(r);
            }
            c
        } else if text.is_empty() {
            return Err(Error::Auth {
                message: format!("token file {} is empty", path.display()),
            });
        } else {
            Credentials::token(text)
        };
        c.file = Some(path.to_path_buf());
        Ok(c)
    }

    /// The access token.
    pub fn access(&self) -> &Secret {
        &self.access
    }

    /// Whether a refresh token is present.
    pub fn can_refresh(&self) -> bool {
        self.refresh.is_some()
    }
}

/// The `exp` claim of a JWT, read without checking its signature.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_f64().map(|e| e as i64)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Holds the current credentials and refreshes them. Shared by a client's requests.
pub(crate) struct TokenKeeper {
    creds: RwLock<Credentials>,
    refresh_lock: tokio::sync::Mutex<()>,
    config: HttpConfig,
}

impl std::fmt::Debug for TokenKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeeper(***)")
    }
}

impl TokenKeeper {
    pub(crate) fn new(creds: Credentials, config: HttpConfig) -> TokenKeeper {
        TokenKeeper {
            creds: RwLock::new(creds),
            refresh_lock: tokio::sync::Mutex::new(()),
            config,
        }
    }

    /// The access and refresh tokens now.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        let c = self.creds.read().unwrap_or_else(|p| p.into_inner());
        std::iter::once(c.access.clone())
            .chain(c.refresh.clone())
            .collect()
    }

    /// The access token now.
    pub(crate) fn access(&self) -> Secret {
        self.creds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .access
            .clone()
    }

    fn needs_refresh(&self) -> bool {
        let c = self.creds.read().unwrap_or_else(|p| p.into_inner());
        c.refresh.is_some()
            && jwt_expiry(c.access.expose())
                .is_some_and(|exp| exp - (REFRESH_MARGIN.as_secs() as i64) <= unix_now())
    }

    /// Refreshes when the access token is about to expire (and a refresh token is present).
    pub(crate) async fn ensure_fresh(&self) -> Result<()> {
        if self.needs_refresh() {
            let _g = self.refresh_lock.lock().await;
            if self.needs_refresh() {
                self.refresh().await?;
            }
        }
        Ok(())
    }

    /// Exchanges the refresh token for a new token set (sent once: refresh tokens rotate).
    pub(crate) async fn refresh(&self) -> Result<()> {
        let (refresh, url, client_id, file) = {
            let c = self.creds.read().unwrap_or_else(|p| p.into_inner());
            (
                c.refresh.clone(),
                c.token_url.clone(),
                c.client_id.clone(),
                c.file.clone(),
            )
        };
        let refresh = refresh.ok_or_else(|| Error::Auth {
            message: "the access token expired and there is no refresh token".into(),
        })?;
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let form = format!(
            "grant_type=refresh_token&client_id={}&refresh_token={}",
            enc(&client_id),
            enc(refresh.expose())
        );
        let t = Transport::new(&url, polyprint::transport::Auth::None, self.config.clone())?;
        let mut req = Request::new(reqwest::Method::POST, "", Idempotency::Command);
        req.body = Body::Bytes(
            "application/x-www-form-urlencoded",
            form.into_bytes().into(),
        );
        req.no_auth = true;
        let r = t.send(req).await?;
        if !r.is_success() {
            // OAuth2 errors: {"error": "invalid_grant", "error_description": "..."}; never echo
            // anything token-like back.
            let code = r
                .json::<serde_json::Value>()
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_else(|| format!("HTTP {}", r.status));
            return Err(Error::Auth {
                message: format!("token refresh refused: {code}"),
            });
        }
        let set: TokenSet = r
            .json()
            .map_err(|_| Error::protocol("token endpoint answered without an access_token"))?;
        {
            let mut c = self.creds.write().unwrap_or_else(|p| p.into_inner());
            c.access = Secret::new(set.access_token.clone());
            if let Some(r) = &set.refresh_token {
                c.refresh = Some(Secret::new(r.clone()));
            }
        }
        if let Some(path) = file {
            let c = self.creds.read().unwrap_or_else(|p| p.into_inner()).clone();
            write_token_file(&path, &c)?;
        }
        tracing::debug!("access token refreshed");
        Ok(())
    }
}

fn write_token_file(path: &Path, c: &Credentials) -> Result<()> {
    let mut v = serde_json::json!({ "access_token": c.access.expose(), "token_type": "Bearer" });
    if let Some(r) = &c.refresh {
        v["refresh_token"] = r.expose().into();
    }
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap_or_default())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| Error::Auth {
        message: format!("cannot write token file {}: {}", path.display(), e.kind()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        let payload =
            URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp},\"type\":\"access\"}}").as_bytes());
        format!("eyJhbGciOiJub25lIn0.{payload}.sig")
    }

    #[test]
    fn reads_exp_and_hides_tokens() {
        assert_eq!(jwt_expiry(&jwt(1_900_000_000)), Some(1_900_000_000));
        assert_eq!(jwt_expiry("not-a-jwt"), None);
        let c = Credentials::token("sekrit-access").with_refresh_token("sekrit-refresh");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sekrit"), "{dbg}");
    }

    #[test]
    fn token_files() {
        let dir = std::env::temp_dir().join(format!("pc-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("tokens.json");
        std::fs::write(&json, r#"{"access_token": "a1", "refresh_token": "r1"}"#).unwrap();
        let c = Credentials::from_file(&json).unwrap();
        assert_eq!(c.access().expose(), "a1");
        assert!(c.can_refresh());
        let raw = dir.join("token.txt");
        std::fs::write(&raw, "a2\n").unwrap();
        assert_eq!(
            Credentials::from_file(&raw).unwrap().access().expose(),
            "a2"
        );
        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"nope": 1}"#).unwrap();
        assert!(matches!(
            Credentials::from_file(&bad),
            Err(Error::Auth { .. })
        ));
        assert!(Credentials::from_file(dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn expiry_triggers_refresh_only_with_a_refresh_token() {
        let k = TokenKeeper::new(
            Credentials::token(jwt(unix_now() + 10)),
            HttpConfig::default(),
        );
        assert!(!k.needs_refresh());
        let k = TokenKeeper::new(
            Credentials::token(jwt(unix_now() + 10)).with_refresh_token("r"),
            HttpConfig::default(),
        );
        assert!(k.needs_refresh());
        let k = TokenKeeper::new(
            Credentials::token(jwt(unix_now() + 3600)).with_refresh_token("r"),
            HttpConfig::default(),
        );
        assert!(!k.needs_refresh());
    }
}
