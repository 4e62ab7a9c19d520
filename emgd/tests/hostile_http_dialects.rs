//! Requests over an incoming HTTP connector's limits are answered in the dialect of the path
//! they were sent to (issue 23): a body over `http_max_body` 413 and headers over
//! `http_max_header_size` or `http_max_headers` 431, as Kannel's `/cgi-bin/sendsms` answers
//! (text/html), as Jasmin's `/send` (`Error "..."`), as EMG's `/bin/send` (`-1`, status 2,
//! the reason) and as emg's JSON (`"error":"body_too_large"`); each refusal has a line in the
//! connector log. The client is curl.

mod support;

use support::peers::curl;
use support::Setup;
use tests::daemon::free_port;

/// An incoming HTTP connector `api` on its own port, with small limits.
fn gateway() -> (Setup, u16) {
    let port = free_port();
    let extra = format!(
        "[connector.api]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{port}\"\nhttp_max_body = 65536\nhttp_max_headers = 20\n"
    );
    (Setup::new("", "", &extra), port)
}

/// curl with `args` and `-i` (the head is part of what it prints): (status, head and body).
fn curl_head(url: &str, args: &[&str]) -> (u16, String) {
    let mut all = vec!["-i"];
    all.extend_from_slice(args);
    curl(url, &all)
}

/// The dialects' send paths, each with what its 413/431 answer must show.
const DIALECTS: &[(&str, &str, &str)] = &[
    ("/cgi-bin/sendsms", "text/html", "request "),
    ("/send", "text/plain", "Error \"request "),
    ("/bin/send", "text/plain", "-1\n2\nrequest "),
    ("/bin/send.json", "application/json", "\"error\":\""),
];

#[test]
fn bodies_and_headers_over_the_limits_are_refused_in_each_dialects_format() {
    let (setup, port) = gateway();
    let _d = setup.start();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::write(&big, format!("to=4670&text={}", "x".repeat(100_000))).unwrap();
    let file = format!("@{}", big.display());
    let fat = format!("X-Fat: {}", "f".repeat(20_000));
    let mut many = Vec::new();
    for i in 0..30 {
        many.push("-H".to_string());
        many.push(format!("X-H{i}: v"));
    }
    for (path, content_type, shows) in DIALECTS {
        let url = format!("http://127.0.0.1:{port}{path}");
        let (status, text) = curl_head(&url, &["-u", "demo:demo", "--data-binary", &file]);
        assert_eq!(status, 413, "{path}: {text}");
        assert!(
            text.to_ascii_lowercase()
                .contains(&format!("content-type: {content_type}")),
            "{path}: {text}"
        );
        assert!(text.contains(shows), "{path}: {shows:?} in {text}");
        assert!(text.contains("http_max_body (65536)"), "{path}: {text}");

        let (status, text) = curl_head(&url, &["-u", "demo:demo", "-H", &fat]);
        assert_eq!(status, 431, "{path}: {text}");
        assert!(text.contains(shows), "{path}: {text}");
        assert!(
            text.contains("http_max_header_size (16384)"),
            "{path}: {text}"
        );

        let mut args: Vec<&str> = vec!["-u", "demo:demo"];
        args.extend(many.iter().map(String::as_str));
        let (status, text) = curl_head(&url, &args);
        assert_eq!(status, 431, "{path}: {text}");
        assert!(text.contains("http_max_headers (20)"), "{path}: {text}");
    }
    let (_, json) = curl_head(
        &format!("http://127.0.0.1:{port}/bin/send.json"),
        &["-u", "demo:demo", "--data-binary", &file],
    );
    assert!(json.contains("\"error\":\"body_too_large\""), "{json}");

    // Within the limits a message is still sent.
    let (status, body) = curl(
        &format!("http://127.0.0.1:{port}/bin/send?to=4670&text=hi"),
        &["-u", "demo:demo"],
    );
    assert_eq!(status, 200, "{body}");
    let log = setup.log("connector.api");
    for said in [
        "request body too large: 100013 octets, more than http_max_body (65536): 413\")",
        "more than http_max_header_size (16384): 431\")",
        "headers, more than http_max_headers (20): 431\")",
    ] {
        assert!(log.contains(said), "{said} in {log}");
    }
}
