//! What a send request is answered, in the shape its clients test for: one answer builder per
//! dialect, each a table from emg's refusals to that product's status codes and texts.
//!
//! | style | when | success | refusal |
//! |---|---|---|---|
//! | [`Style::Kannel`] | `/cgi-bin/sendsms` | 202 `0: Accepted for delivery` | Kannel 1.4.5's status and text (`Authorization failed for sendsms`, ...), `text/html` |
//! | [`Style::Jasmin`] | `/send` | 200 `Success "ID"` | Jasmin's status and `Error "..."`, `text/plain` |
//! | [`Style::EmgText`] | `/bin/send` | three lines a recipient: id, `0`, `OK` | `-1`, a status, its text |
//! | [`Style::EmgXml`] | `/bin/send.xml` | `<results>` of `<result>` (status, msgid, statustext), `<balance>` | the same with the error |
//! | [`Style::Json`] | a `.json` path, `Accept: application/json`, a JSON body (not on `/send`) | EMG's `results` and `balance`, with emg's `status`, `msgid`, `parts`, `data_coding` | emg's `error`, `parameter`, `message`, and `results` |
//!
//! The texts and where they come from are recorded in `tests/fixtures/http-dialects/`
//! (Kannel's recorded from the real smsbox by `emgd/tests/http_dialects.rs`). Free of I/O.

use super::params::{normalise, Params};
use super::reply::ApiError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// How a send request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Kannel,
    Jasmin,
    EmgText,
    EmgXml,
    Json,
}

impl Style {
    /// The style for a request to `path`; `accept_json` is whether the client asked for JSON
    /// (`Accept: application/json`, a `.json` path) and `json_body` whether it sent JSON.
    pub fn of(path: &str, accept_json: bool, json_body: bool) -> Style {
        if path.ends_with(".xml") {
            Style::EmgXml
        } else if accept_json || path.ends_with(".json") {
            Style::Json
        } else if path.starts_with("/cgi-bin/") {
            // Kannel takes no JSON body; one asks for emg's JSON answer.
            if json_body {
                Style::Json
            } else {
                Style::Kannel
            }
        } else if path.starts_with("/bin/") {
            if json_body {
                Style::Json
            } else {
                Style::EmgText
            }
        } else {
            // Jasmin answers a JSON body as any other request.
            Style::Jasmin
        }
    }
}

/// What was done with a request that got past its checks: one result per recipient.
#[derive(Debug)]
pub struct Batch {
    pub results: Vec<Result<u64, ApiError>>,
    pub parts: usize,
    pub data_coding: u8,
    /// The account's balance after the charges (balance-controlled accounts, JSON and XML).
    pub balance: Option<String>,
}

/// What the answer builders may need of the request besides the outcome.
pub struct Asked<'a> {
    pub params: &'a Params,
    /// The user name the request gave, if any.
    pub user: Option<&'a str>,
}

/// The answer to a send request.
pub fn answer(style: Style, outcome: &Result<Batch, ApiError>, asked: &Asked<'_>) -> Response {
    let first_error = match outcome {
        Err(e) => Some(e),
        Ok(b) if b.results.iter().all(Result::is_err) => {
            b.results.iter().find_map(|r| r.as_ref().err())
        }
        Ok(_) => None,
    };
    let mut resp = match style {
        Style::Kannel => {
            let (status, text) = match first_error {
                None => (StatusCode::ACCEPTED, "0: Accepted for delivery".to_string()),
                Some(e) => kannel_refusal(e, asked.params),
            };
            text_answer(status, "text/html", text)
        }
        Style::Jasmin => {
            let (status, text) = match (first_error, outcome) {
                (None, Ok(b)) => {
                    let id = b.results.iter().find_map(|r| r.as_ref().ok()).copied();
                    (
                        StatusCode::OK,
                        format!("Success \"{}\"", id.unwrap_or_default()),
                    )
                }
                (Some(e), _) | (None, Err(e)) => {
                    let (status, text) = jasmin_refusal(e, asked);
                    (status, format!("Error \"{text}\""))
                }
            };
            text_answer(status, "text/plain", text)
        }
        Style::EmgText => {
            let body = emg_results(outcome)
                .iter()
                .map(|r| format!("{}\n{}\n{}\n", r.msgid, r.status, r.statustext))
                .collect::<String>();
            text_answer(status_of(first_error), "text/plain", body)
        }
        Style::EmgXml => {
            let mut body =
                String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n<results>\n");
            for r in emg_results(outcome) {
                body.push_str(&format!(
                    "<result><status>{}</status><msgid>{}</msgid><statustext>{}</statustext></result>\n",
                    r.status,
                    r.msgid,
                    xml_escape(&r.statustext)
                ));
            }
            body.push_str("</results>\n");
            if let Some(b) = outcome.as_ref().ok().and_then(|b| b.balance.as_ref()) {
                body.push_str(&format!("<balance>{}</balance>\n", xml_escape(b)));
            }
            body.push_str("</response>\n");
            text_answer(status_of(first_error), "application/xml", body)
        }
        Style::Json => json_answer(outcome, first_error),
    };
    // emg's WWW-Authenticate and Retry-After; Kannel and Jasmin send neither, but every
    // dialect says when a blocked login may try again.
    match (first_error, style) {
        (Some(e), Style::EmgText | Style::EmgXml | Style::Json)
        | (Some(e @ ApiError::LoginBlocked { .. }), _) => e.add_headers(resp.headers_mut()),
        _ => {}
    }
    resp
}

fn status_of(first_error: Option<&ApiError>) -> StatusCode {
    first_error.map_or(StatusCode::OK, ApiError::status)
}

fn text_answer(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type == "text/html" {
        // As Kannel's sendsms answers.
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// One recipient's line of EMG's answer.
struct EmgResult {
    msgid: String,
    status: u8,
    statustext: String,
}

/// EMG's status numbers: 0 ok, 1 temporary, 2 bad parameter, 3 invalid login, 4 refused.
fn emg_status(e: &ApiError) -> u8 {
    match e {
        ApiError::BadParameter(_) | ApiError::BodyTooLarge(_) | ApiError::HeadersTooLarge(_) => 2,
        ApiError::Unauthorized => 3,
        ApiError::Forbidden(_)
        | ApiError::Refused(_)
        | ApiError::NoRoute(_)
        | ApiError::NoBalance(_)
        | ApiError::NotFound(_) => 4,
        ApiError::Throttled
        | ApiError::LoginBlocked { .. }
        | ApiError::QueueFull(_)
        | ApiError::Unavailable(_) => 1,
    }
}

fn emg_text(e: &ApiError) -> String {
    match e {
        ApiError::BadParameter(p)
            if normalise(&p.name) == "to" && p.message.starts_with("missing") =>
        {
            "Recipient (DESTADDR) is missing".to_string()
        }
        ApiError::BadParameter(p) => format!("{}: {}", p.name, p.message),
        e => e.message(),
    }
}

fn emg_result(r: &Result<u64, ApiError>) -> EmgResult {
    match r {
        Ok(id) => EmgResult {
            msgid: id.to_string(),
            status: 0,
            statustext: "OK".into(),
        },
        Err(e) => EmgResult {
            msgid: "-1".into(),
            status: emg_status(e),
            statustext: emg_text(e),
        },
    }
}

fn emg_results(outcome: &Result<Batch, ApiError>) -> Vec<EmgResult> {
    match outcome {
        Err(e) => vec![emg_result(&Err(e.clone()))],
        Ok(b) => b.results.iter().map(emg_result).collect(),
    }
}

fn json_answer(outcome: &Result<Batch, ApiError>, first_error: Option<&ApiError>) -> Response {
    let results: Vec<serde_json::Value> = emg_results(outcome)
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "status": r.status.to_string(),
                "msgid": r.msgid,
                "statustext": r.statustext,
            })
        })
        .collect();
    let mut v = match (first_error, outcome) {
        (Some(e), _) => e.json(),
        (None, Ok(b)) => {
            let id = b.results.iter().find_map(|r| r.as_ref().ok()).copied();
            serde_json::json!({
                "status": "OK",
                "msgid": id.unwrap_or_default().to_string(),
                "parts": b.parts,
                "data_coding": b.data_coding,
            })
        }
        (None, Err(e)) => e.json(),
    };
    v["results"] = serde_json::Value::Array(results);
    if let Some(b) = outcome.as_ref().ok().and_then(|b| b.balance.as_ref()) {
        v["balance"] = serde_json::Value::String(b.clone());
    }
    (status_of(first_error), axum::Json(v)).into_response()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Kannel 1.4.5's texts for a refused parameter (smsbox.c, `smsbox_req_handle`), by the
/// parameter's normalised name.
const KANNEL_FIELDS: &[(&[&str], &str)] = &[
    (&["udh"], "UDH field misformed, rejected"),
    (&["dlrurl"], "DLR-URL field misformed, rejected"),
    (&["dlrmask"], "DLR-Mask field misformed, rejected"),
    (&["pid", "protocolid"], "PID field misformed, rejected"),
    (&["coding"], "Coding field misformed, rejected"),
    (
        &["validity", "validityperiod", "vp"],
        "Validity field misformed, rejected",
    ),
    (&["priority"], "Priority field misformed, rejected"),
    (
        &["account"],
        "Account field misformed or too long, rejected",
    ),
    (
        &["from", "sourceaddr"],
        "Sender missing and no global set, rejected",
    ),
];

/// Kannel's text for whatever else of the message is wrong (its text, coding or charset).
const KANNEL_BODY: &str = "Charset or body misformed, rejected";

fn kannel_refusal(e: &ApiError, params: &Params) -> (StatusCode, String) {
    let (status, text) = match e {
        ApiError::Unauthorized => (StatusCode::FORBIDDEN, "Authorization failed for sendsms"),
        // Not Kannel's: the brake on failed logins answers 429 in every dialect, and a
        // request over the listener's limits 413 or 431.
        ApiError::LoginBlocked { message, .. }
        | ApiError::BodyTooLarge(message)
        | ApiError::HeadersTooLarge(message) => return (e.status(), message.clone()),
        ApiError::BadParameter(p) => {
            let name = normalise(&p.name);
            let text = if name == "to" || name == "destaddr" {
                match params.written(&p.name) {
                    None => "Missing receiver number, rejected",
                    Some(v) if v.iter().all(u8::is_ascii_whitespace) => {
                        "Empty receiver number not allowed, rejected"
                    }
                    Some(_) => "Number(s) has/have been denied by white- and/or black-lists.",
                }
            } else {
                KANNEL_FIELDS
                    .iter()
                    .find(|(names, _)| names.contains(&name.as_str()))
                    .map_or(KANNEL_BODY, |(_, t)| t)
            };
            (StatusCode::BAD_REQUEST, text)
        }
        ApiError::Refused(_) => (
            StatusCode::BAD_REQUEST,
            "Number(s) has/have been denied by white- and/or black-lists.",
        ),
        // bearerbox's ack_failed: Kannel cannot route it.
        ApiError::NoRoute(_) | ApiError::Forbidden(_) | ApiError::NotFound(_) => {
            (StatusCode::FORBIDDEN, "Not routable. Do not try again.")
        }
        // ack_failed_tmp.
        ApiError::Throttled
        | ApiError::NoBalance(_)
        | ApiError::QueueFull(_)
        | ApiError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporal failure, try again later.",
        ),
    };
    (status, text.to_string())
}

/// Jasmin's status and text (jasmin/protocols/http: `errors.py`, `validation.py`,
/// `endpoints/send.py`).
fn jasmin_refusal(e: &ApiError, asked: &Asked<'_>) -> (StatusCode, String) {
    let user = asked.user.unwrap_or_default();
    match e {
        ApiError::Unauthorized if asked.params.is_empty() => (
            StatusCode::BAD_REQUEST,
            "Mandatory arguments not found, please refer to the HTTPAPI specifications.".into(),
        ),
        ApiError::Unauthorized if asked.user.is_none() => (
            StatusCode::BAD_REQUEST,
            "Mandatory argument [username] is not found.".into(),
        ),
        ApiError::Unauthorized => (
            StatusCode::FORBIDDEN,
            format!("Authentication failure for username:{user}"),
        ),
        ApiError::BadParameter(p) => (StatusCode::BAD_REQUEST, jasmin_parameter(p, asked.params)),
        ApiError::NoRoute(_) => (StatusCode::PRECONDITION_FAILED, "No route found".into()),
        ApiError::Throttled => (StatusCode::FORBIDDEN, "User throughput exceeded".into()),
        // Not Jasmin's: the brake on failed logins answers 429 in every dialect, and a
        // request over the listener's limits 413 or 431.
        ApiError::LoginBlocked { message, .. }
        | ApiError::BodyTooLarge(message)
        | ApiError::HeadersTooLarge(message) => (e.status(), message.clone()),
        ApiError::NoBalance(_) => (
            StatusCode::FORBIDDEN,
            "Cannot charge submit_sm, check RouterPB log file for details".into(),
        ),
        ApiError::Refused(_) => (
            StatusCode::BAD_REQUEST,
            format!("Value filter failed for user [{user}] (destination_address filter mismatch)."),
        ),
        ApiError::Forbidden(_) | ApiError::NotFound(_) => (
            StatusCode::BAD_REQUEST,
            format!("Authorization failed for user [{user}] (Cannot send MT messages)."),
        ),
        ApiError::QueueFull(_) | ApiError::Unavailable(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot send submit_sm, check SMPPClientManagerPB log file for details".into(),
        ),
    }
}

fn jasmin_parameter(p: &super::params::ParamError, params: &Params) -> String {
    const CONTENT: &[&str] = &["text", "message", "content", "hexcontent"];
    let name = normalise(&p.name);
    if CONTENT.contains(&name.as_str()) {
        let text = params.get(&["text", "message", "content"]).is_some();
        let hex = params.get(&["hexcontent"]).is_some();
        match (text, hex) {
            (false, false) => return "content or hex-content not present.".into(),
            (true, true) => {
                return "content and hex-content cannot be used both in same request.".into()
            }
            _ => {}
        }
    }
    match params.written(&p.name) {
        None => format!("Mandatory argument [{}] is not found.", p.name),
        Some(v) => format!(
            "Argument [{}] has an invalid value: [{}].",
            p.name,
            String::from_utf8_lossy(v)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::http::params::ParamError;

    fn params(q: &str) -> Params {
        let mut p = Params::default();
        p.add_urlencoded(q.as_bytes());
        p
    }

    async fn body(r: Response) -> (u16, String, String) {
        let status = r.status().as_u16();
        let ctype = r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let b = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, ctype, String::from_utf8(b.to_vec()).unwrap())
    }

    fn batch(results: Vec<Result<u64, ApiError>>) -> Result<Batch, ApiError> {
        Ok(Batch {
            results,
            parts: 1,
            data_coding: 0,
            balance: Some("9.5".into()),
        })
    }

    #[test]
    fn the_path_picks_the_style() {
        assert_eq!(Style::of("/cgi-bin/sendsms", false, false), Style::Kannel);
        assert_eq!(Style::of("/cgi-bin/sendsms", true, false), Style::Json);
        assert_eq!(Style::of("/send", false, true), Style::Jasmin);
        assert_eq!(Style::of("/send.json", false, false), Style::Json);
        assert_eq!(Style::of("/bin/send", false, false), Style::EmgText);
        assert_eq!(Style::of("/bin/send", false, true), Style::Json);
        assert_eq!(Style::of("/bin/send.xml", false, false), Style::EmgXml);
    }

    #[tokio::test]
    async fn emg_answers_a_line_triple_per_recipient() {
        let p = params("DESTADDR=1&DESTADDR=2");
        let asked = Asked {
            params: &p,
            user: Some("u"),
        };
        let out = batch(vec![
            Ok(17),
            Err(ApiError::NoRoute("no route for 2".into())),
        ]);
        let (status, _, text) = body(answer(Style::EmgText, &out, &asked)).await;
        assert_eq!(status, 200);
        assert_eq!(text, "17\n0\nOK\n-1\n4\nno route for 2\n");
        let (_, ctype, xml) = body(answer(Style::EmgXml, &out, &asked)).await;
        assert_eq!(ctype, "application/xml");
        assert!(
            xml.contains(
                "<result><status>0</status><msgid>17</msgid><statustext>OK</statustext></result>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<balance>9.5</balance>"), "{xml}");
        let missing = Err(ApiError::BadParameter(ParamError::new(
            "to",
            "missing (the recipient's number)",
        )));
        let (status, _, text) = body(answer(Style::EmgText, &missing, &asked)).await;
        assert_eq!(
            (status, text.as_str()),
            (400, "-1\n2\nRecipient (DESTADDR) is missing\n")
        );
    }

    #[tokio::test]
    async fn kannel_and_jasmin_texts() {
        let p = params("username=u&to=abc");
        let asked = Asked {
            params: &p,
            user: Some("u"),
        };
        let bad_to = Err(ApiError::BadParameter(ParamError::new("to", "x")));
        assert_eq!(
            body(answer(Style::Kannel, &bad_to, &asked)).await,
            (
                400,
                "text/html".into(),
                "Number(s) has/have been denied by white- and/or black-lists.".into()
            )
        );
        assert_eq!(
            body(answer(Style::Jasmin, &bad_to, &asked)).await,
            (
                400,
                "text/plain".into(),
                "Error \"Argument [to] has an invalid value: [abc].\"".into()
            )
        );
        let no_route = batch(vec![Err(ApiError::NoRoute("x".into()))]);
        assert_eq!(
            body(answer(Style::Jasmin, &no_route, &asked)).await.2,
            "Error \"No route found\""
        );
        assert_eq!(
            body(answer(Style::Jasmin, &batch(vec![Ok(5)]), &asked))
                .await
                .2,
            "Success \"5\""
        );
        assert_eq!(
            body(answer(Style::Kannel, &batch(vec![Ok(5), Ok(6)]), &asked)).await,
            (202, "text/html".into(), "0: Accepted for delivery".into())
        );
    }
}
