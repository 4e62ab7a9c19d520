#!/usr/bin/env python3
"""A load client for the crash tests: submits COUNT messages to one of emgd's incoming
protocols, each with a unique text "crash-PROTO-N", and SIGKILLs emgd (--kill-pid; --signal
TERM for a graceful stop instead) as soon as --kill-after of them have been acknowledged. The client survives emgd dying: a reset or a
closed connection ends the load. Prints {"acknowledged": [texts], "error": "..."}; a text is
acknowledged only when emgd's positive answer to it was read.

  crash_client.py --proto smtp|mgp|ucp|cimd2 --port P --count N --kill-pid PID --kill-after K
                  [--dest D] [--user U --password PW]

smtp: python's smtplib, one mail a transaction, acknowledged by the 250 after DATA.
mgp:  newline-delimited JSON (man mgp(7)), login then pipelined submits (a window of 20),
      acknowledged by the `ok` answer carrying its message_id.
ucp:  EMI-UCP on a plain socket, session login (OT 60) then submits (OT 51, a window of 10
      TRNs), acknowledged by the positive result (A).
cimd2: CIMD2 on a plain socket, login (01) then submits (03, a window of 10 packet
      numbers), acknowledged by the submit response (53) without an error code (900).
"""
import argparse
import json
import os
import signal
import smtplib
import socket
import sys
from email.message import EmailMessage


class Refused(Exception):
    """emgd refused a submit: a failure, unless emgd was told to stop (SIGTERM refuses new
    messages while it shuts down)."""


class Killer:
    def __init__(self, pid, after, sig):
        self.pid, self.after, self.sig, self.done = pid, after, sig, False

    def check(self, acked):
        if not self.done and self.pid and acked >= self.after:
            self.done = True
            os.kill(self.pid, self.sig)


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
            raise Refused("submit refused: %r" % frame)
        acked.append(text)
        killer.check(len(acked))


class Framed:
    """STX ... ETX frames on a plain socket (UCP and CIMD2)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, frame):
        self.sock.sendall(frame)

    def read(self):
        """The text between STX and ETX of the next frame."""
        while b"\x03" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("emgd closed the session")
            self.buf += chunk
        frame, self.buf = self.buf.split(b"\x03", 1)
        return frame[frame.rfind(b"\x02") + 1:].decode("latin-1")


def windowed(args, killer, acked, s, submit, answer, window=10):
    """Submits with `window` outstanding; `submit(i)` sends message i and returns its key,
    `answer(text)` returns (key, ok) for a result, or None after answering a request."""
    texts = {}
    sent = 0
    while sent < args.count or texts:
        while sent < args.count and len(texts) < window:
            texts[submit(sent)] = "crash-%s-%d" % (args.proto, sent)
            sent += 1
        frame = s.read()
        result = answer(frame)
        if result is None:
            continue
        key, ok = result
        text = texts.pop(key, None)
        if text is None:
            continue
        if not ok:
            raise Refused("%s submit of %s refused: %r" % (args.proto, text, frame))
        acked.append(text)
        killer.check(len(acked))


def ucp_frame(trn, kind, ot, fields):
    body = "%02d/%05d/%s/%02d/%s/" % (trn, 0, kind, ot, "/".join(fields))
    length = len(body) + 2
    body = "%02d/%05d/%s" % (trn, length, body[9:])
    cs = sum(body.encode()) % 256
    return b"\x02" + ("%s%02X" % (body, cs)).encode() + b"\x03"


def ira(text):
    return text.encode().hex().upper()


def ucp(args, killer, acked):
    s = Framed(args.port)
    # OT 60: OAdC OTON ONPI STYP PWD NPWD VERS LAdC LTON LNPI OPID RES1
    s.send(ucp_frame(0, "O", 60, [args.user, "6", "5", "1", ira(args.password), "",
                                  "0100", "", "", "", "", ""]))
    reply = s.read().split("/")
    if reply[4] != "A":
        raise RuntimeError("UCP login refused: %r" % reply)

    def submit(i):
        trn = (i + 1) % 100
        fields = [""] * 33
        fields[0], fields[1] = args.dest, "4610000"   # AdC, OAdC
        fields[18], fields[20] = "3", ira("crash-ucp-%d" % i)   # MT, Msg
        s.send(ucp_frame(trn, "O", 51, fields))
        return trn

    def answer(text):
        parts = text.split("/")
        trn, kind, ot = int(parts[0]), parts[2], parts[3]
        if kind == "O":  # a request from emgd: acknowledge it
            s.send(ucp_frame(trn, "R", int(ot), ["A", "", ""]))
            return None
        return trn, parts[4] == "A"

    windowed(args, killer, acked, s, submit, answer)


def cimd_packet(op, number, params):
    body = "\x02%02d:%03d\t" % (op, number)
    body += "".join("%03d:%s\t" % (code, value) for code, value in params)
    cs = sum(body.encode()) % 256
    return ("%s%02X\x03" % (body, cs)).encode()


def cimd_parse(text):
    fields = text.split("\t")
    op, number = fields[0].split(":")
    params = dict(f.split(":", 1) for f in fields[1:-1])
    return int(op), int(number), params


def cimd2(args, killer, acked):
    s = Framed(args.port)
    s.send(cimd_packet(1, 1, [(10, args.user), (11, args.password)]))
    op, _, params = cimd_parse(s.read())
    if op != 51 or params.get("900", "0") != "0":
        raise RuntimeError("CIMD2 login refused: %r" % params)

    def submit(i):
        number = (2 * i + 3) % 256
        s.send(cimd_packet(3, number, [(21, args.dest), (33, "crash-cimd2-%d" % i)]))
        return number

    def answer(text):
        op, number, params = cimd_parse(text)
        if op < 50:  # a request from emgd (alive, deliver): answer it
            s.send(cimd_packet(op + 50, number, []))
            return None
        return number, op == 53 and params.get("900", "0") == "0"

    windowed(args, killer, acked, s, submit, answer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True, choices=["smtp", "mgp", "ucp", "cimd2"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--kill-pid", type=int, default=0)
    ap.add_argument("--kill-after", type=int, default=200)
    ap.add_argument("--signal", default="KILL", choices=["KILL", "TERM"])
    ap.add_argument("--dest", default="7712345")
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="app")
    args = ap.parse_args()
    killer = Killer(args.kill_pid, args.kill_after, getattr(signal, "SIG" + args.signal))
    acked = []
    out = {"acknowledged": acked, "error": None}
    try:
        {"smtp": smtp, "mgp": mgp, "ucp": ucp, "cimd2": cimd2}[args.proto](args, killer, acked)
    except (OSError, EOFError, smtplib.SMTPException) as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    except Refused as e:
        if not killer.done:
            raise
        out["error"] = "Refused: %s" % e
    out["killed"] = killer.done
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
