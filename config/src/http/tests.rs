use super::*;
use std::path::Path;

#[test]
fn http_keywords_are_read_with_defaults_and_inherited() {
    let text = r#"
[connector.api]
type = "incoming"
protocol = "http"
address = "127.0.0.1:8080"
dlr_callback_backoff_max = 30

[connector.base]
virtual = true
type = "outgoing"
protocol = "http"
http_method = "GET"
http_headers = { Authorization = "Bearer {id}" }

[connector.prov]
inherit = "base"
address = "https://api.example/send?to={to}"
http_params = { msisdn = "{to}", msg = "{text}" }
http_success = [200, 202]
remote_id_json = "/id"
dlr_params = { id = "ref" }
"#;
    let cfg = crate::parse_str(text, Path::new("t.toml")).expect("valid");
    let api = &cfg.connectors["api"].http;
    assert_eq!(
        (api.dlr_callback_backoff_max, api.dlr_callback_timeout),
        (30, 10)
    );
    let p = &cfg.connectors["prov"].http;
    assert_eq!(p.method, HttpMethod::Get);
    assert_eq!(p.headers["Authorization"], "Bearer {id}");
    assert_eq!(p.params.len(), 2);
    assert_eq!(p.success, vec![200, 202]);
    assert_eq!(p.remote_id, Some(RemoteId::Json("/id".into())));
    assert_eq!(p.dlr_params["id"], "ref");
    assert_eq!(p.dlr_params["status"], "status");
    assert_eq!(p.temporary, HttpOptions::default().temporary);
}

#[test]
fn templates_name_known_placeholders() {
    assert!(check_template("http://h/send?to={to}&t={text}").is_ok());
    assert!(check_template("no placeholders").is_ok());
    assert!(check_template("{tp}")
        .unwrap_err()
        .contains("did you mean `to`"));
    assert!(check_template("{to").is_err());
}
