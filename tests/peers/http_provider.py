#!/usr/bin/env python3
"""An SMS provider's HTTP API for emgd's outgoing HTTP connector tests.

    http_provider.py --port 9000 --dlr-url http://127.0.0.1:9001/dlr \
                     --mo-url http://127.0.0.1:9001/mo --out sends.jsonl

POST /send (form: to, from, text, ref) answers 200 {"message_id": "prov-N"} and records the
send in --out; 100 ms later it posts the delivery report to --dlr-url (form: msgid=prov-N,
stat=DELIVRD, err=0). After its first send it posts one MO message to --mo-url (form:
from=<to of the send>, to=<from of the send>, text="reply to <text>"). Every answer emgd gives
to those posts is recorded in --out as well.
"""
import argparse
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dlr-url", required=True)
    ap.add_argument("--mo-url", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    lock = threading.Lock()
    count = [0]
    out = open(args.out, "a", encoding="utf-8")

    def record(obj):
        with lock:
            out.write(json.dumps(obj) + "\n")
            out.flush()

    def post(url, fields, kind):
        data = urllib.parse.urlencode(fields).encode()
        try:
            with urllib.request.urlopen(url, data=data, timeout=10) as r:
                record({"kind": kind, "status": r.status, "body": r.read().decode()})
        except urllib.error.HTTPError as e:
            record({"kind": kind, "status": e.code, "body": e.read().decode()})
        except OSError as e:
            record({"kind": kind, "status": 0, "body": str(e)})

    def later(msgid, send):
        time.sleep(0.1)
        post(args.dlr_url, {"msgid": msgid, "stat": "DELIVRD", "err": "0"}, "dlr")
        if msgid == "prov-1":
            post(args.mo_url, {"from": send.get("to", ""), "to": send.get("from", ""),
                               "text": "reply to " + send.get("text", "")}, "mo")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            send = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
            with lock:
                count[0] += 1
                msgid = "prov-%d" % count[0]
            record({"kind": "send", "msgid": msgid, "fields": send,
                    "auth": self.headers.get("Authorization", "")})
            reply = json.dumps({"message_id": msgid}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            threading.Thread(target=later, args=(msgid, send), daemon=True).start()

        def log_message(self, *_):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
