#!/usr/bin/env python3
"""A load client for the crash tests: submits COUNT messages to one of emgd's incoming
protocols, each with a unique text "crash-PROTO-N", and SIGKILLs emgd (--kill-pid) as soon
as --kill-after of them have been acknowledged. The client survives emgd dying: a reset or a
closed connection ends the load. Prints {"acknowledged": [texts], "error": "..."}; a text is
acknowledged only when emgd's positive answer to it was read.

  crash_client.py --proto smtp|mgp --port P --count N --kill-pid PID --kill-after K
                  [--dest D] [--user U --password PW]

smtp: python's smtplib, one mail a transaction, acknowledged by the 250 after DATA.
mgp:  newline-delimited JSON (man mgp(7)), login then pipelined submits (a window of 20),
      acknowledged by the `ok` answer carrying its message_id.
"""
import argparse
import json
import os
import signal
import smtplib
import socket
import sys
from email.message import EmailMessage


class Killer:
    def __init__(self, pid, after):
        self.pid, self.after, self.done = pid, after, False

    def check(self, acked):
        if not self.done and self.pid and acked >= self.after:
            self.done = True
            os.kill(self.pid, signal.SIGKILL)


def smtp(args, killer, acked):
    with smtplib.SMTP("127.0.0.1", args.port, timeout=20) as s:
        s.ehlo("crash.test")
        for i in range(args.count):
            text = "crash-smtp-%d" % i
            m = EmailMessage()
            m["From"] = "alice@example.com"
            m["To"] = "%s@sms.example.com" % args.dest
            m.set_content(text + "\n", cte="7bit")
            # send_message raises unless every recipient and the DATA got a 2xx answer.
            s.send_message(m)
            acked.append(text)
            killer.check(len(acked))


def mgp(args, killer, acked):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=20)
    buf = b""

    def send(obj):
        sock.sendall(json.dumps(obj).encode() + b"\n")

    def read():
        nonlocal buf
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("emgd closed the session")
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        return json.loads(line)

    send({"id": 0, "op": "login", "user": args.user, "password": args.password})
    answer = read()
    if "ok" not in answer:
        raise RuntimeError("login refused: %r" % answer)
    texts = {}
    sent = 0
    while sent < args.count or texts:
        while sent < args.count and len(texts) < 20:
            rid = sent + 1
            texts[rid] = "crash-mgp-%d" % sent
            send({"id": rid, "op": "submit", "options": {
                "DESTADDR": args.dest, "SOURCEADDR": "4610000", "MESSAGE": texts[rid]}})
            sent += 1
        frame = read()
        if "op" in frame:  # a request from emgd (deliver): answer it
            send({"id": frame["id"], "ok": {}})
            continue
        text = texts.pop(frame.get("id"), None)
        if text is None:
            continue
        if "ok" not in frame or "message_id" not in frame["ok"]:
            raise RuntimeError("submit refused: %r" % frame)
        acked.append(text)
        killer.check(len(acked))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True, choices=["smtp", "mgp"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--kill-pid", type=int, default=0)
    ap.add_argument("--kill-after", type=int, default=200)
    ap.add_argument("--dest", default="7712345")
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="app")
    args = ap.parse_args()
    killer = Killer(args.kill_pid, args.kill_after)
    acked = []
    out = {"acknowledged": acked, "error": None}
    try:
        {"smtp": smtp, "mgp": mgp}[args.proto](args, killer, acked)
    except (OSError, EOFError, smtplib.SMTPException) as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    out["killed"] = killer.done
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
