//! What leaves emgd over HTTP, end to end with the real binary and third-party peers: the
//! OUT pipeline on outgoing HTTP and on DLR callbacks (masquerade and replaceprefix as the
//! provider's API, tests/peers/http_provider.py, and the application's receiver,
//! tests/peers/http_sink.py, see them), and MO messages from the SMSC peer (the npm `smpp`
//! package) pushed to an incoming HTTP connector's `mo_url`: retried, and kept across a
//! `kill -9`.

mod support;

use emgd::process::masquerade::Masquerade;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::peers::{curl, provider, records, sink, wait_for};
use support::smsc::Smsc;
use support::{StoreDb, EMGD};
use tests::daemon::{free_port, Daemon};

const KEY: &str = "http push masquerade key";

/// A gateway from `text` (a whole configuration) in `dir`, started once `port` listens.
fn start(dir: &Path, text: &str, port: u16) -> Daemon {
    let config = dir.join("emg.toml");
    std::fs::write(&config, text).unwrap();
    Daemon::start(Path::new(EMGD), &config, port).expect("emgd starts")
}

fn log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("log").join(name)).unwrap_or_default()
}

#[test]
fn out_pipeline_runs_on_outgoing_http_and_on_dlr_callbacks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (http, prov_port, dlr_port, sink_port) =
        (free_port(), free_port(), free_port(), free_port());
    let sends = dir.join("provider.jsonl");
    let calls = dir.join("calls.jsonl");
    let _sink = sink(sink_port, &calls, 0);
    let _prov = provider(prov_port, dlr_port, &sends);
    let mut d = start(
        dir,
        &format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = ""
masquerade_key = "{KEY}"

[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
# The report's sender (the phone the message went to) in international format.
replacesourceprefix = "6:+6"

[connector.prov]
type = "outgoing"
protocol = "http"
address = "http://127.0.0.1:{prov_port}/send"
http_params = {{ to = "{{to}}", from = "{{from}}", text = "{{text}}" }}
remote_id_json = "/message_id"
dlr_address = "127.0.0.1:{dlr_port}"
dlr_params = {{ id = "msgid", status = "stat", error = "err" }}
replaceprefix = "6:+6"
masquerade = true

[connector.sim1]
type = "outgoing"
protocol = "sim"

[user.demo]
password = "demo"

[[route]]
prefix = "6"
to = "prov"

[[route]]
to = "sim1"
"#
        ),
        http,
    );
    let (status, body) = curl(
        &format!(
            "http://127.0.0.1:{http}/bin/send.json?to=6661&from=4711&text=secret+sender&dlr-url=http://127.0.0.1:{sink_port}/cb"
        ),
        &["-u", "demo:demo"],
    );
    assert_eq!(status, 200, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["msgid"]
        .as_str()
        .unwrap()
        .to_string();

    // The provider saw the OUT pipeline's copy: the recipient rewritten, the sender masked.
    let masked = Masquerade::new(KEY).mask("4711").unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || records(&sends)
            .iter()
            .any(|r| r["kind"] == "send")),
        "{}",
        log(dir, "connector.prov")
    );
    let sent = records(&sends);
    let send = sent.iter().find(|r| r["kind"] == "send").unwrap();
    assert_eq!(send["fields"]["to"], "+6661", "{send}");
    assert_eq!(send["fields"]["from"], masked.as_str(), "{send}");
    assert_eq!(send["fields"]["text"], "secret sender");

    // The callback to the application is http-in's OUT pipeline's copy of the report.
    assert!(
        wait_for(Duration::from_secs(20), || records(&calls).iter().any(
            |c| c["form"]["id"] == id.as_str() && c["form"]["status"] == "DELIVRD"
        )),
        "callbacks {:?}\n{}",
        records(&calls),
        log(dir, "connector.http-in")
    );
    let calls = records(&calls);
    let cb = calls
        .iter()
        .find(|c| c["form"]["id"] == id.as_str())
        .unwrap();
    assert_eq!(cb["form"]["to"], "+6661", "{cb}");
    assert_eq!(cb["form"]["from"], "4711", "{cb}");

    // The store keeps what the gateway routed, not what went on the wire.
    assert!(d.terminate(Duration::from_secs(30)).unwrap().success());
    let routed = StoreDb::of(&dir.join("emg.toml"))
        .rows("SELECT source, dest FROM routelog WHERE in_connector = 'http-in'");
    assert_eq!(routed, [["4711", "6661"]]);
}

/// The configuration of the MO tests: SMPP clients on `smpp`, the SMSC peer behind `smsc`
/// for destinations starting with 5, its MO messages routed to the application behind
/// `app` (incoming HTTP on `http`) at `mo_url`.
fn mo_config(smpp: u16, smsc: u16, http: u16, mo_url: &str) -> String {
    format!(
        r#"datadir = "data"
logdir = "log"
mgp_address = ""

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp}"
instances = 2

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc}"
username = "emg"
password = "secret"
static = true

[connector.app]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
mo_url = "{mo_url}"
dlr_callback_backoff_max = 1

[user.demo]
password = "demo"

[[route]]
from = "smsc"
to = "app"

[[route]]
prefix = "5"
to = "smsc"
"#
    )
}

/// Submits `count` messages to 5551 as `demo`, as an SMPP client; the SMSC answers each
/// with an MO from 5551 to 4610000, text "re:load N".
fn submit(port: u16, count: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = tests::smpp_client::Client::bind(port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        c.submit(count, 1, "5551", false, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), count);
        c.unbind().await;
    });
}

/// The MO messages routed to `app` (routelog status each), and how many are still queued.
fn mo_state(dir: &Path) -> (Vec<String>, i64) {
    let db = StoreDb::of(&dir.join("emg.toml"));
    let statuses = db
        .rows("SELECT status FROM routelog WHERE in_connector = 'smsc' AND route = 'app'")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let queued = db.number("SELECT COUNT(*) FROM messages WHERE target = 'app' AND state = 0");
    (statuses, queued)
}

#[test]
fn mo_from_the_smsc_is_pushed_to_the_application_retried_and_kept_across_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (smpp, smsc_port, http, sink_port) = (free_port(), free_port(), free_port(), free_port());
    let _smsc = Smsc::start(smsc_port, dir.join("smsc.json"), &["--mo-reply"]);
    let pushes = dir.join("pushes.jsonl");
    let mo_url = format!("http://127.0.0.1:{sink_port}/mo?sender=%p&via=%i");
    let text = mo_config(smpp, smsc_port, http, &mo_url);
    // The application fails the first push: it is retried.
    let sink1 = sink(sink_port, &pushes, 1);
    let mut d = start(dir, &text, smpp);
    submit(smpp, 1);
    let delivered = |n: usize| {
        records(&pushes)
            .iter()
            .filter(|r| r["answered"] == 200)
            .count()
            >= n
    };
    assert!(
        wait_for(Duration::from_secs(30), || delivered(1)),
        "pushes {:?}\n{}\n{}",
        records(&pushes),
        log(dir, "connector.app"),
        d.stderr_text()
    );
    let got = records(&pushes);
    assert_eq!(got.len(), 2, "one failed push, one retry: {got:?}");
    for push in &got {
        assert_eq!(push["method"], "POST");
        assert_eq!(push["path"], "/mo");
        assert_eq!(push["query"]["sender"], "5551", "{push}");
        assert_eq!(push["query"]["via"], "smsc", "{push}");
        assert_eq!(push["form"]["from"], "5551", "{push}");
        assert_eq!(push["form"]["to"], "4610000", "{push}");
        assert_eq!(push["form"]["text"], "re:load 0", "{push}");
        assert_eq!(push["form"]["connector"], "smsc", "{push}");
    }
    assert!(log(dir, "connector.app").contains("CALLBACK ERR (info=\"MO message"));

    // The application is down: the MO stays queued, through a kill -9, until it is back.
    drop(sink1);
    submit(smpp, 1);
    assert!(
        wait_for(Duration::from_secs(30), || log(dir, "connector.app")
            .matches("CALLBACK ERR")
            .count()
            >= 2),
        "{}",
        log(dir, "connector.app")
    );
    d.kill9();
    let _sink2 = sink(sink_port, &pushes, 0);
    let mut d = start(dir, &text, smpp);
    assert!(
        wait_for(Duration::from_secs(30), || delivered(2)),
        "pushes {:?}\n{}\n{}",
        records(&pushes),
        log(dir, "connector.app"),
        d.stderr_text()
    );
    let last = records(&pushes).pop().unwrap();
    assert_eq!(last["form"]["text"], "re:load 0");
    assert!(d.terminate(Duration::from_secs(30)).unwrap().success());
    let (statuses, queued) = mo_state(dir);
    assert_eq!(queued, 0);
    assert_eq!(statuses, ["DELIVERED", "DELIVERED"]);
}

#[test]
fn a_route_naming_a_user_pushes_its_mo_to_that_users_own_url() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (smpp, smsc_port, http) = (free_port(), free_port(), free_port());
    let (app_port, shop_port) = (free_port(), free_port());
    let _smsc = Smsc::start(smsc_port, dir.join("smsc.json"), &["--mo-reply"]);
    let (app_pushes, shop_pushes) = (dir.join("app.jsonl"), dir.join("shop.jsonl"));
    let _app = sink(app_port, &app_pushes, 0);
    let _shop = sink(shop_port, &shop_pushes, 0);
    // MO to 4610000 is for user shop, whose URL (GET) overrides the connector's (POST).
    let text = mo_config(
        smpp,
        smsc_port,
        http,
        &format!("http://127.0.0.1:{app_port}/mo"),
    )
    .replace(
        "[[route]]\nfrom = \"smsc\"\nto = \"app\"\n",
        "[[route]]\nfrom = \"smsc\"\nto = \"app\"\n\n[[route]]\nfrom = \"smsc\"\nprefix = \"4610000\"\nto = \"app\"\nuser = \"shop\"\n",
    )
    .replace(
        "[user.demo]\npassword = \"demo\"\n",
        &format!("[user.demo]\npassword = \"demo\"\n\n[user.shop]\npassword = \"shop\"\nmo_url = \"http://127.0.0.1:{shop_port}/shop?from=%p\"\nmo_method = \"get\"\n"),
    );
    let d = start(dir, &text, smpp);
    submit(smpp, 1);
    assert!(
        wait_for(Duration::from_secs(30), || records(&shop_pushes)
            .iter()
            .any(|r| r["answered"] == 200)),
        "shop {:?} app {:?}\n{}\n{}",
        records(&shop_pushes),
        records(&app_pushes),
        log(dir, "connector.app"),
        d.stderr_text()
    );
    let push = records(&shop_pushes).pop().unwrap();
    assert_eq!(push["method"], "GET", "{push}");
    assert_eq!(push["path"], "/shop", "{push}");
    assert_eq!(push["query"]["from"], "5551", "{push}");
    assert_eq!(push["query"]["text"], "re:load 0", "{push}");
    assert!(
        records(&app_pushes).is_empty(),
        "the connector's URL is not used"
    );

    // --check-config: without the connector's mo_url, the user's URL is enough for its route,
    // and a route to a user without one is refused at its `to`, saying so.
    let check = |text: &str| {
        let path = dir.join("check.toml");
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(EMGD)
            .args(["--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr =
            String::from_utf8_lossy(&out.stderr).replace(&format!("{}:", path.display()), "");
        (out.status.success(), stderr.trim_end().to_string())
    };
    let without_connector_url = text
        .replace(
            &format!("mo_url = \"http://127.0.0.1:{app_port}/mo\"\n"),
            "",
        )
        .replace("[[route]]\nfrom = \"smsc\"\nto = \"app\"\n\n", "");
    let (ok, stderr) = check(&without_connector_url);
    assert!(ok, "{stderr}");
    let (ok, stderr) = check(&without_connector_url.replace("user = \"shop\"", "user = \"demo\""));
    assert!(!ok);
    assert!(
        stderr.ends_with(": route[0].to: incoming HTTP connector `app` has no `mo_url` to push the messages routed to it to; set `mo_url` on it or on user `demo`"),
        "{stderr}"
    );
    let (ok, stderr) =
        check(&without_connector_url.replace("user = \"shop\"", "user = \"nobody\""));
    assert!(!ok);
    assert!(
        stderr.contains("route[0].user: unknown user `nobody`"),
        "{stderr}"
    );
}
