#!/usr/bin/env python3
"""A mail relay for the SMTP client tests: aiosmtpd on 127.0.0.1, recording what it gets.

Prints one JSON line {"ready": PORT} once it listens, then one line per message taken or
refused: {"event": "data", "mail_from", "rcpt_tos", "data" (base64), "answer"}. Stops on
SIGTERM or when stdin closes (so it never outlives the test that started it).

  --fail-first N     answer the first N messages' DATA with 451 (then accept)
  --refuse-rcpt S    answer RCPT with 550 for recipients containing S
  --auth USER:PASS   require AUTH (PLAIN or LOGIN) with these credentials
  --tls CERT KEY     offer STARTTLS with this certificate and require it
"""
import argparse
import base64
import json
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def emit(obj):
    print(json.dumps(obj), flush=True)


class Recorder:
    def __init__(self, fail_first, refuse_rcpt):
        self.fail_left = fail_first
        self.refuse_rcpt = refuse_rcpt

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt and self.refuse_rcpt in address:
            emit({"event": "rcpt", "address": address, "answer": 550})
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            answer = 451
        else:
            answer = 250
        emit({
            "event": "data",
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": base64.b64encode(envelope.original_content or b"").decode(),
            "answer": answer,
            "tls": session.ssl is not None,
            "auth": session.authenticated,
        })
        if answer == 451:
            return "451 4.3.0 Temporary failure, try again"
        return "250 2.0.0 Message accepted"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--refuse-rcpt", default="")
    ap.add_argument("--auth", default="")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    kwargs = {"decode_data": False}
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(args.tls))
    controller = Controller(Recorder(args.fail_first, args.refuse_rcpt),
                            hostname="127.0.0.1", port=port, **kwargs)
    # The readiness probe of Controller talks plain SMTP; with require_starttls it still
    # gets its greeting, which is all it checks.
    controller.start()
    emit({"ready": port})
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    try:
        done.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
