#!/usr/bin/env python3
"""An application speaking MGP to emgd's incoming `mgp` connector over a plain socket
(newline-delimited JSON, man mgp(7)), for the end-to-end tests.

Logs in as an application user, submits COUNT messages (pipelined) with a delivery report
asked for, and reads emgd's `deliver` requests, answering each `ok`, until every submitted
message has its final report or the timeout passes. Also tries the operator-only operations
it is given with --forbidden and msg_show/msg_cancel on --foreign ids. Prints one JSON
object.

  mgp_app.py --port P --user app --password pw [--count N] [--dest D] [--timeout S]
             [--leave] [--expect-reports N] [--expect-mo N] [--no-answer]
             [--forbidden status,reload] [--foreign ID,...]
             [--option NAME=value ...]

--leave: submit, collect the ids, and disconnect without waiting for reports.
--expect-reports N: submit nothing and wait for N reports (held while we were away).
--expect-mo N: submit nothing and wait for N MO messages (`deliver` with MSGTYPE 1); they
  are printed as "mo", each its options.
--tls-ca FILE: speak TLS (python's ssl), trusting the CA in FILE, checking the name localhost.
--no-answer: leave every `deliver` unanswered (as an application that drops the session
  before acknowledging).
"""
import argparse
import json
import socket
import ssl
import sys
import time


class Session:
    def __init__(self, port, tls_ca=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""
        self.next_id = 1

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def request(self, op, **fields):
        rid = self.next_id
        self.next_id += 1
        self.send(dict(id=rid, op=op, **fields))
        return rid

    def read(self, timeout):
        """One frame, or None at the timeout."""
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise EOFError("emgd closed the session")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="app")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--dest", default="5551234")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--leave", action="store_true")
    ap.add_argument("--expect-reports", type=int, default=0)
    ap.add_argument("--expect-mo", type=int, default=0)
    ap.add_argument("--no-answer", action="store_true")
    ap.add_argument("--tls-ca", help="connect over TLS (python's ssl), trusting this CA file")
    ap.add_argument("--forbidden", default="")
    ap.add_argument("--foreign", default="")
    ap.add_argument("--option", action="append", default=[])
    args = ap.parse_args()

    try:
        s = Session(args.port, args.tls_ca)
    except (OSError, ssl.SSLError) as e:
        print(json.dumps({"connect_error": f"{type(e).__name__}: {e}"}))
        return 0
    answers = {}      # request id -> frame
    reports = {}      # ORIGID -> MESSAGESTATE
    mo = []           # the options of each MO message delivered
    deliveries = 0
    pending = {}      # request id -> what it was

    def handle(frame):
        nonlocal deliveries
        if "op" in frame:
            if frame["op"] == "deliver":
                o = frame["options"]
                deliveries += 1
                if o.get("MSGTYPE") == "5":
                    reports[o["ORIGID"]] = o["MESSAGESTATE"]
                else:
                    mo.append(o)
            if not args.no_answer:
                s.send({"id": frame["id"], "ok": {}})
        elif "id" in frame:
            answers[frame["id"]] = frame

    def wait_answer(rid, timeout=20):
        deadline = time.time() + timeout
        while rid not in answers and time.time() < deadline:
            f = s.read(deadline - time.time())
            if f is not None:
                handle(f)
        return answers.get(rid)

    out = {}
    before = s.request("status")
    out["before_login"] = wait_answer(before)
    login = wait_answer(s.request("login", user=args.user, password=args.password))
    out["login"] = login
    if "error" in login:
        print(json.dumps(out))
        return 0

    out["forbidden"] = {}
    for op in [o for o in args.forbidden.split(",") if o]:
        out["forbidden"][op] = wait_answer(s.request(op))

    submits = []
    waiting = args.expect_reports or args.expect_mo
    if not waiting:
        extra = dict(o.split("=", 1) for o in args.option)
        for i in range(args.count):
            options = {"DESTADDR": args.dest, "SOURCEADDR": "4610000",
                       "MESSAGE": "app message %d" % i, "DLR": "1"}
            options.update(extra)
            submits.append(s.request("submit", options=options))
    deadline = time.time() + args.timeout
    for rid in submits:
        wait_answer(rid, max(1, deadline - time.time()))
    ids = []
    errors = []
    for rid in submits:
        a = answers.get(rid)
        if a and "ok" in a:
            ids.append(str(a["ok"]["message_id"]))
        else:
            errors.append(a)
    out["ids"] = ids
    out["errors"] = errors

    if ids:
        out["own_show"] = wait_answer(s.request("msg_show", message_id=int(ids[0])))
    out["foreign"] = {}
    for fid in [f for f in args.foreign.split(",") if f]:
        out["foreign"][fid] = {
            "show": wait_answer(s.request("msg_show", message_id=int(fid))),
            "cancel": wait_answer(s.request("msg_cancel", message_id=int(fid))),
        }

    if not args.leave:
        wanted = args.expect_reports or len(ids)
        while time.time() < deadline:
            if args.expect_mo:
                done = len(mo) >= args.expect_mo
            elif args.expect_reports:
                done = len(reports) >= wanted
            else:
                done = all(i in reports for i in ids)
            if done:
                break
            f = s.read(max(0.1, deadline - time.time()))
            if f is not None:
                handle(f)
        # Whatever else is already on its way (a second copy would show here).
        end = time.time() + 0.5
        while time.time() < end:
            f = s.read(end - time.time())
            if f is not None:
                handle(f)
    out["reports"] = reports
    out["mo"] = mo
    out["deliveries"] = deliveries
    s.sock.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
