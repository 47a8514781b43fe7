//! OctoEverywhere's two error layers, mapped to [`polyprint::Error`] kinds (spec B2).
//!
//! **Service layer: real HTTP statuses 600–613**, decided before the body is read:
//!
//! | HTTP | meaning                                        | kind                         | retryable |
//! |------|------------------------------------------------|------------------------------|-----------|
//! | 601  | the plugin is not connected to OctoEverywhere  | Unreachable                  | yes |
//! | 602  | the plugin timed out on this request           | Unreachable (OutcomeUnknown for an action) | yes (no) |
//! | 609  | webcam back-to-back view limit                 | RateLimited (Retry-After)    | yes |
//! | 603  | App Connection not found (bad subdomain)       | Auth                         | no  |
//! | 604  | App Connection revoked or expired              | Auth                         | no  |
//! | 605  | the owner has no Supporter Perks (with the portal link) | Auth                | no  |
//! | 606  | missing or invalid App Connection credentials  | Auth                         | no  |
//! | 600, 607, 608, 610–613 | unknown, size limits, plugin update/beta/bug, no print | Api(status) | no |
//!
//! The client's transport retries **safe reads** on those three too, besides 429, 502–504 and
//! network failures (its [`RetryPolicy::retry_statuses`](polyprint::transport::RetryPolicy)
//! are [`crate::client::SERVICE_RETRY_STATUSES`]); 601 (plugin not connected), 602 (plugin timed out) and 609 (webcam view limit) are temporary per the spec. Commands
//! are never retried.
//!
//! **Plugin layer: HTTP 200 with `{"Status": ..., "Error": ...}`.** The decision is on `Status`,
//! never on the HTTP code alone:
//!
//! | Status | meaning                                | kind |
//! |--------|----------------------------------------|------|
//! | 200    | success                                | Ok   |
//! | 400    | argument validation (exact text kept)  | InvalidArgument (NotFound for `start`: its only argument is the path) |
//! | 785    | the plugin cannot reach the printer's host | InvalidState for a command; an Offline status for `status` |
//! | 786    | wrong printer state                    | InvalidState |
//! | 788    | not supported on this platform         | Unsupported (the command's feature) |
//! | 789    | the plugin lost its printer credentials | Auth |
//! | 754    | unknown command (plugin too old)       | Unsupported for a command with a feature, else Api |
//! | 500, 750–753, 787, others | platform failure, parse/execution/serialize failure, too many clients | Api(Status) |
//!
//! Any other non-2xx HTTP answer without an envelope is mapped by [`Error::from_status`] (401/403
//! Auth, 429 RateLimited, …) with a short snippet; a 2xx without an envelope is Protocol.

use std::time::Duration;

use polyprint::transport::Response;
use polyprint::{Error, Feature};

use crate::wire::Envelope;
use serde_json::value::RawValue;

/// The link to send a user to when the owner lost Supporter Perks (605). `appid` is the App
/// Connection's app id, when known.
pub(crate) fn no_supporter_perks_link(app_id: Option<&str>) -> String {
    format!(
        "https://octoeverywhere.com/appportal/v1/nosupporterperks?appid={}",
        app_id.unwrap_or("<app id>")
    )
}

/// Whether an HTTP status is one of the service's own codes (600–613).
pub(crate) fn is_service_status(status: u16) -> bool {
    (600..=613).contains(&status)
}

/// The error for a service status 600–613 (see the module table). `endpoint` is the base URL
/// without credentials.
pub(crate) fn service_error(
    status: u16,
    endpoint: &str,
    retry_after: Option<Duration>,
    app_id: Option<&str>,
) -> Error {
    let unreachable = |message: &str| {
        Error::unreachable(endpoint, format!("{message} (OctoEverywhere {status})"))
    };
    let auth = |message: String| Error::Auth {
        message: format!("{message} (OctoEverywhere {status})"),
    };
    match status {
        601 => unreachable("the printer's OctoEverywhere plugin is not connected to the service"),
        602 => unreachable("the printer's OctoEverywhere plugin timed out on this request"),
        609 => Error::RateLimited { retry_after },
        603 => auth("App Connection not found: check the connection's subdomain".into()),
        604 => auth(
            "App Connection revoked or expired (revoked, expired, printer removed or account deleted)"
                .into(),
        ),
        605 => auth(format!(
            "the printer's owner no longer has OctoEverywhere Supporter Perks; see {}",
            no_supporter_perks_link(app_id)
        )),
        606 => auth("missing or invalid App Connection credentials".into()),
        _ => Error::Api {
            status,
            message: match status {
                600 => "OctoEverywhere unknown or server error",
                607 => "response body over the account's download limit",
                608 => "request body over the account's upload limit",
                610 => "the printer's OctoEverywhere plugin must be updated",
                611 => "no OctoEverywhere beta access",
                612 => "the OctoEverywhere plugin failed (bug)",
                613 => "no active print",
                _ => "OctoEverywhere service error",
            }
            .to_string(),
        },
    }
}

/// What a command was, for mapping plugin statuses: its name (`pause`, `set-temp`, …) and the
/// feature it needs (for 788).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    /// The command path, e.g. `set-light`.
    pub command: &'static str,
    /// The feature it needs, when it is an action.
    pub feature: Option<Feature>,
}

impl Call {
    /// A read with no feature (`status`, `files/list`, `webcam/list`, `ping`).
    pub const fn read(command: &'static str) -> Call {
        Call {
            command,
            feature: None,
        }
    }

    /// An action needing `feature`.
    pub const fn action(command: &'static str, feature: Feature) -> Call {
        Call {
            command,
            feature: Some(feature),
        }
    }
}

/// The error for a plugin envelope whose `Status` is not 200 (see the module table). 785 is
/// [`Error::InvalidState`] here; `status` turns it into an Offline status before calling this.
pub(crate) fn plugin_error(status: i64, message: Option<&str>, call: Call) -> Error {
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or("(no error text)")
        .to_string();
    let unsupported = |feature: Feature| Error::Unsupported {
        feature,
        backend: crate::BACKEND.to_string(),
    };
    match (status, call.feature) {
        (400, _) if call.command == "start" => Error::NotFound {
            what: format!("file to print: {message}"),
        },
        (400, _) => Error::invalid(call.command, message),
        (785, _) => Error::state(format!("the printer's host is not connected: {message}")),
        (786, _) => Error::state(message),
        (788, Some(feature)) => unsupported(feature),
        (754, Some(feature)) => unsupported(feature),
        (789, _) => Error::Auth {
            message: format!("the OctoEverywhere plugin lost its printer credentials: {message}"),
        },
        (status, _) => Error::Api {
            status: u16::try_from(status).unwrap_or(u16::MAX),
            message,
        },
    }
}

/// Reads a response: service statuses first, then the envelope's `Status`. Returns the
/// success envelope's `Result` (`{}` when absent).
pub(crate) fn read_envelope(
    response: &Response,
    call: Call,
    endpoint: &str,
    app_id: Option<&str>,
) -> polyprint::Result<Box<RawValue>> {
    // The plugin timed out on an action: it received it, and may have carried it out.
    if response.status == 602 && call.feature.is_some() {
        return Err(Error::OutcomeUnknown {
            action: call.command.to_string(),
            message: "the printer's OctoEverywhere plugin timed out on this request \
                      (OctoEverywhere 602)"
                .into(),
        });
    }
    match decode(response, endpoint, app_id)? {
        Ok(result) => Ok(result),
        Err((status, message)) => Err(plugin_error(status, message.as_deref(), call)),
    }
}

/// The `Result` of a bare success that has none: `{}`.
fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).expect("`{}` is JSON")
}

/// A plugin failure: its `Status` and `Error`.
pub(crate) type PluginFailure = (i64, Option<String>);

/// Decodes a response into the success `Result` or the plugin's failure, mapping service
/// statuses and envelope-less answers to errors.
pub(crate) fn decode(
    response: &Response,
    endpoint: &str,
    app_id: Option<&str>,
) -> polyprint::Result<Result<Box<RawValue>, PluginFailure>> {
    if is_service_status(response.status) {
        return Err(service_error(
            response.status,
            endpoint,
            response.retry_after(),
            app_id,
        ));
    }
    match polyprint::transport::json_from_bytes::<Envelope>(&response.body) {
        Ok(envelope) if envelope.status == 200 => Ok(Ok(envelope.result.unwrap_or_else(empty))),
        Ok(envelope) => Ok(Err((envelope.status, envelope.error))),
        Err(_) if response.is_success() => Err(Error::protocol(format!(
            "HTTP {} body is not an OctoEverywhere envelope: {}",
            response.status,
            response.snippet()
        ))),
        Err(_) => Err(match response.status {
            429 => Error::RateLimited {
                retry_after: response.retry_after(),
            },
            status => Error::from_status(status, response.snippet()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::ErrorKind;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    /// 602 means the plugin timed out on the request: for a read, try again; for an action,
    /// the printer may have it.
    #[test]
    fn a_plugin_timeout_on_an_action_is_outcome_unknown() {
        let r = response(602, "");
        let action = Call::action("pause", Feature::PauseResume);
        let err = read_envelope(&r, action, "e", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        assert!(!err.is_retryable());
        let err = read_envelope(&r, Call::read("status"), "e", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    }

    #[test]
    fn service_statuses_table() {
        let rows: [(u16, ErrorKind, bool); 14] = [
            (600, ErrorKind::Api, false),
            (601, ErrorKind::Unreachable, true),
            (602, ErrorKind::Unreachable, true),
            (603, ErrorKind::Auth, false),
            (604, ErrorKind::Auth, false),
            (605, ErrorKind::Auth, false),
            (606, ErrorKind::Auth, false),
            (607, ErrorKind::Api, false),
            (608, ErrorKind::Api, false),
            (609, ErrorKind::RateLimited, true),
            (610, ErrorKind::Api, false),
            (611, ErrorKind::Api, false),
            (612, ErrorKind::Api, false),
            (613, ErrorKind::Api, false),
        ];
        for (status, kind, retryable) in rows {
            // The body is never read for a service status, even when it looks like success.
            let r = response(status, r#"{"Status": 200, "Result": {}}"#);
            let err = decode(&r, "https://x.octoeverywhere.com", Some("app-1")).unwrap_err();
            assert_eq!(err.kind(), kind, "{status}");
            assert_eq!(err.is_retryable(), retryable, "{status}");
            assert_eq!(
                crate::client::SERVICE_RETRY_STATUSES.contains(&status),
                retryable,
                "{status}"
            );
        }
        let err = service_error(605, "e", None, Some("my-app"));
        assert!(
            err.to_string()
                .contains("https://octoeverywhere.com/appportal/v1/nosupporterperks?appid=my-app"),
            "{err}"
        );
    }

    #[test]
    fn plugin_statuses_table() {
        let pause = Call::action("pause", Feature::PauseResume);
        let rows: [(i64, Call, ErrorKind); 14] = [
            (
                400,
                Call::action("set-temp", Feature::TemperatureControl),
                ErrorKind::InvalidArgument,
            ),
            (
                400,
                Call::action("start", Feature::PrintStart),
                ErrorKind::NotFound,
            ),
            (500, pause, ErrorKind::Api),
            (750, pause, ErrorKind::Api),
            (751, pause, ErrorKind::Api),
            (752, pause, ErrorKind::Api),
            (753, pause, ErrorKind::Api),
            (754, pause, ErrorKind::Unsupported),
            (754, Call::read("status"), ErrorKind::Api),
            (785, pause, ErrorKind::InvalidState),
            (786, pause, ErrorKind::InvalidState),
            (787, pause, ErrorKind::Api),
            (
                788,
                Call::action("home", Feature::Homing),
                ErrorKind::Unsupported,
            ),
            (789, pause, ErrorKind::Auth),
        ];
        for (status, call, kind) in rows {
            let body = format!(r#"{{"Status": {status}, "Error": "text {status}"}}"#);
            let err = read_envelope(&response(200, &body), call, "e", None).unwrap_err();
            assert_eq!(err.kind(), kind, "{status} {call:?}");
            assert!(!err.is_retryable(), "{status}");
        }
        let err = plugin_error(
            788,
            Some("Not Supported"),
            Call::action("home", Feature::Homing),
        );
        assert!(matches!(
            err,
            Error::Unsupported {
                feature: Feature::Homing,
                ..
            }
        ));
    }

    #[test]
    fn status_decides_not_the_http_code() {
        // A plugin failure on HTTP 200 is an error ...
        let r = response(200, r#"{"Status": 786, "Error": "Wrong State"}"#);
        let err =
            read_envelope(&r, Call::action("pause", Feature::PauseResume), "e", None).unwrap_err();
        assert!(err.to_string().contains("Wrong State"), "{err}");
        // ... and an envelope on another HTTP code is read the same way.
        let r = response(400, r#"{"Status": 786, "Error": "Wrong State"}"#);
        let err =
            read_envelope(&r, Call::action("pause", Feature::PauseResume), "e", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        let ok = read_envelope(
            &response(200, r#"{"Status": 200}"#),
            Call::read("ping"),
            "e",
            None,
        )
        .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(ok.get()).unwrap(),
            serde_json::json!({})
        );
        // No envelope: HTTP decides; 2xx is Protocol, with a short snippet.
        let err =
            read_envelope(&response(200, "<html>"), Call::read("status"), "e", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        let err =
            read_envelope(&response(503, "busy"), Call::read("status"), "e", None).unwrap_err();
        assert!(err.is_retryable(), "{err}");
        let err = read_envelope(&response(401, "no"), Call::read("status"), "e", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
    }
}
