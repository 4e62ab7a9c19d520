#!/usr/bin/env python3
"""A DLR callback receiver for emgd's HTTP tests (python's own http.server).

    http_sink.py --port 8081 --out calls.jsonl [--fail-first N] [--fail-status 500]

Every request is appended to --out as one JSON object a line (method, path, query and form
fields, and the body as it came), flushed before the answer goes out. The first N requests are answered with
--fail-status, the rest with 200 "OK".
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=500)
    args = ap.parse_args()
    lock = threading.Lock()
    seen = [0]
    out = open(args.out, "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self):
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            flat = lambda d: {k: v[0] for k, v in d.items()}
            record = {
                "method": self.command,
                "path": url.path,
                "query": flat(parse_qs(url.query)),
                "form": flat(parse_qs(body)),
                "body": body,
            }
            with lock:
                seen[0] += 1
                failing = seen[0] <= args.fail_first
                record["answered"] = args.fail_status if failing else 200
                out.write(json.dumps(record) + "\n")
                out.flush()
            reply = b"no\n" if failing else b"OK\n"
            self.send_response(record["answered"])
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = handle_any
        do_POST = handle_any

        def log_message(self, *_):
            pass

    ThreadingHTTPServer.daemon_threads = True
    # A deep accept queue: Kannel's smsbox opens many connections at once under load, and
    # socketserver's default backlog of 5 makes the kernel refuse them on a busy machine.
    ThreadingHTTPServer.request_queue_size = 1024
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
