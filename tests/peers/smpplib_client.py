#!/usr/bin/env python3
"""A real third-party SMPP client (python smpplib) used by the end-to-end tests.

Binds as a transceiver, submits COUNT messages asking for delivery receipts, and reads
deliver_sm until every accepted message has its receipt or the timeout passes. Prints one
JSON object: how many were submitted, accepted (with our message ids), refused (by status),
and which receipts came back.
"""
import argparse
import json
import socket
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.exceptions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--dest", default="46701234567")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--no-dlr", action="store_true")
    ap.add_argument("--bind-only", action="store_true", help="only bind, report the status")
    args = ap.parse_args()

    client = smpplib.client.Client("127.0.0.1", args.port, allow_unknown_opt_params=True)
    accepted = {}
    refused = {}
    receipts = {}
    pending_seq = {}

    def on_sent(pdu):
        seq = pdu.sequence
        if pdu.status == 0:
            mid = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else str(pdu.message_id)
            accepted[seq] = mid
        else:
            refused[seq] = pdu.status

    def on_message(pdu):
        text = pdu.short_message.decode(errors="replace") if isinstance(pdu.short_message, bytes) else str(pdu.short_message)
        rid = pdu.receipted_message_id
        if isinstance(rid, bytes):
            rid = rid.decode()
        receipts[rid or text] = {"text": text, "state": pdu.message_state, "esm_class": pdu.esm_class}

    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_message)
    client.connect()
    try:
        client.bind_transceiver(system_id=args.user, password=args.password)
    except smpplib.exceptions.PDUError as e:
        print(json.dumps({"bind_error": e.args[1] if len(e.args) > 1 else str(e)}))
        return 0
    if args.bind_only:
        print(json.dumps({"bound": True}))
        client.unbind()
        client.disconnect()
        return 0

    for i in range(args.count):
        pdu = client.send_message(
            source_addr_ton=1, source_addr_npi=1, source_addr="4610000",
            dest_addr_ton=1, dest_addr_npi=1, destination_addr=args.dest,
            short_message=("message %d" % i).encode(),
            registered_delivery=0 if args.no_dlr else 1,
        )
        pending_seq[pdu.sequence] = i

    deadline = time.time() + args.timeout
    client._socket.settimeout(0.5)
    while time.time() < deadline:
        answered = len(accepted) + len(refused)
        if answered == args.count and (args.no_dlr or all(m in receipts for m in accepted.values())):
            break
        try:
            client.read_once()
        except socket.timeout:
            continue
    try:
        client.unbind()
    except Exception:
        pass
    client.disconnect()
    print(json.dumps({
        "submitted": args.count,
        "accepted": sorted(accepted.values()),
        "refused": sorted(refused.values()),
        "receipts": receipts,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
