#!/usr/bin/env python3
"""A load client for the cluster tests (python smpplib, a third-party SMPP client) that
survives the node it is bound to dying or refusing.

Binds as a transceiver to the first of --ports, submits COUNT messages with the unique texts
"TAG-N" asking for receipts, keeping at most --window unanswered. When its connection is
lost (SIGKILL of the node) the submits sent and not answered are "unanswered" (neither
acknowledged nor refused: they may or may not be stored), and it binds to the next port in
turn and goes on. Once every message was sent it reads until each acknowledged one has its
receipt (on whichever node it is bound to then) or --timeout passes.

Prints one JSON object: "acked" {text: message id}, "refused" {text: command_status},
"unanswered" [texts], "receipts" {message id: times received}, "reconnects", "rotations".

  cluster_client.py --ports P1,P2 --count N [--tag T] [--dest D] [--window W]
                    [--rate PER_SECOND] [--timeout S] [--user U --password PW]
                    [--rotate-idle S] [--receipt-wait S]
"""
import argparse
import json
import socket
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.exceptions


LOST = (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError)


class Run:
    def __init__(self, args):
        self.args = args
        self.ports = [int(p) for p in args.ports.split(",")]
        self.turn = 0
        self.client = None
        self.acked = {}
        self.refused = {}
        self.unanswered = []
        self.receipts = {}
        self.reconnects = 0
        self.rotations = 0
        self.outstanding = {}  # sequence -> text

    def on_sent(self, pdu):
        text = self.outstanding.pop(pdu.sequence, None)
        if text is None:
            return
        if pdu.status == 0:
            mid = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else str(pdu.message_id)
            self.acked[text] = mid
        else:
            self.refused[text] = pdu.status

    def on_message(self, pdu):
        rid = pdu.receipted_message_id
        if isinstance(rid, bytes):
            rid = rid.decode()
        if rid:
            self.receipts[rid] = self.receipts.get(rid, 0) + 1

    def bind(self, deadline):
        """Bind to the current port, else the next ones in turn, until `deadline`."""
        while time.time() < deadline:
            port = self.ports[self.turn % len(self.ports)]
            c = smpplib.client.Client("127.0.0.1", port, allow_unknown_opt_params=True, timeout=10)
            c.set_message_sent_handler(self.on_sent)
            c.set_message_received_handler(self.on_message)
            c.set_error_pdu_handler(lambda pdu: None)
            try:
                c.connect()
                c.bind_transceiver(system_id=self.args.user, password=self.args.password)
                c._socket.settimeout(0.5)
                self.client = c
                return True
            except LOST:
                try:
                    c.disconnect()
                except Exception:
                    pass
                self.turn += 1
                time.sleep(0.2)
        return False

    def lost(self):
        """The connection went: what was sent and not answered stays unknown."""
        self.unanswered.extend(self.outstanding.values())
        self.outstanding.clear()
        try:
            self.client._socket.close()
        except Exception:
            pass
        self.client = None
        self.turn += 1
        self.reconnects += 1

    def read(self):
        try:
            self.client.read_once()
        except socket.timeout:
            pass

    def submit_all(self, deadline):
        a = self.args
        started = time.time()
        i = 0
        while i < a.count and time.time() < deadline:
            if self.client is None and not self.bind(deadline):
                break
            try:
                while i < a.count and len(self.outstanding) < a.window:
                    if a.rate and i > started_rate(started, a.rate):
                        break
                    text = "%s-%d" % (a.tag, i)
                    pdu = self.client.send_message(
                        source_addr_ton=1, source_addr_npi=1, source_addr="4610000",
                        dest_addr_ton=1, dest_addr_npi=1, destination_addr=a.dest,
                        registered_delivery=1, short_message=text.encode())
                    self.outstanding[pdu.sequence] = text
                    i += 1
                if self.outstanding:
                    self.read()
                else:
                    time.sleep(0.005)  # held back by --rate
            except LOST:
                self.lost()
        while self.outstanding and time.time() < deadline:
            try:
                self.read()
            except LOST:
                self.lost()

    def await_receipts(self, deadline):
        """Read receipts; with --rotate-idle, bind to the next node when none came for that
        long (a report waits on the node that queued it, for a session of its user there)."""
        wanted = set(self.acked.values())
        last, seen = time.time(), len(self.receipts)
        while time.time() < deadline and not wanted.issubset(self.receipts):
            if self.client is None and not self.bind(deadline):
                break
            try:
                self.read()
            except LOST:
                self.lost()
            if len(self.receipts) != seen:
                last, seen = time.time(), len(self.receipts)
            elif self.args.rotate_idle and time.time() - last > self.args.rotate_idle and self.client:
                self.close()
                self.client = None
                self.turn += 1
                self.rotations += 1
                last = time.time()

    def close(self):
        if self.client is None:
            return
        try:
            self.client.unbind()
        except Exception:
            pass
        try:
            self.client.disconnect()
        except Exception:
            pass


def started_rate(started, rate):
    """How many messages may have been sent by now at `rate` a second."""
    return (time.time() - started) * rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True, help="comma-separated: bind to the first, then the next")
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--tag", default="c")
    ap.add_argument("--dest", default="5550000")
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--rate", type=float, default=0.0, help="at most this many submits a second")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--receipt-wait", type=float,
                    help="wait at most this many seconds for receipts once all is sent (default: till --timeout)")
    ap.add_argument("--rotate-idle", type=float, default=0.0,
                    help="waiting for receipts, bind to the next port after this many idle seconds")
    args = ap.parse_args()
    run = Run(args)
    deadline = time.time() + args.timeout
    run.submit_all(deadline)
    if args.receipt_wait is not None:
        deadline = min(deadline, time.time() + args.receipt_wait)
    run.await_receipts(deadline)
    run.close()
    print(json.dumps({
        "acked": run.acked,
        "refused": run.refused,
        "unanswered": run.unanswered,
        "receipts": run.receipts,
        "reconnects": run.reconnects,
        "rotations": run.rotations,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
