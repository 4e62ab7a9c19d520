#!/usr/bin/env python3
"""A real third-party SMPP client (python smpplib) used by the end-to-end tests.

Binds as a transceiver (or --bind transmitter/receiver), submits COUNT messages asking for
delivery receipts, and reads deliver_sm until every accepted message has its receipt (a
transmitter waits for none; a receiver reads until --expect receipts came) or the timeout
passes. Prints one JSON object: how many were submitted, accepted (with our message ids),
refused (by status), which receipts came back, and in which order.
"""
import argparse
import json
import socket
import sys
import time

import smpplib.client
import smpplib.command
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
    ap.add_argument("--tlvs", action="store_true",
                    help="send user_message_reference N, source_port 4660, destination_port 22136, "
                         "privacy_indicator 2, language_indicator 1, callback_num 4670001")
    ap.add_argument("--schedule-in", type=int, default=0,
                    help="schedule_delivery_time this many seconds from now (relative time)")
    ap.add_argument("--validity", default="",
                    help="validity_period of each submit, as given (relative ...R or absolute ...+/-)")
    ap.add_argument("--registered-delivery", type=int, default=1,
                    help="registered_delivery of each submit (--no-dlr: 0)")
    ap.add_argument("--bind-only", action="store_true", help="only bind, report the status")
    ap.add_argument("--text", help="send this text (COUNT times) instead of 'message N'")
    ap.add_argument("--tag", default="", help="put this before 'message N' (texts unique across runs)")
    ap.add_argument("--coding", type=int, default=0, help="data_coding for --text: 0 GSM, 8 UCS-2")
    ap.add_argument("--payload", action="store_true", help="send --text in message_payload")
    ap.add_argument("--parts", type=int, default=0,
                    help="send each --text as this many UDH-concatenated submit_sm (reference = message number + 1)")
    ap.add_argument("--query", help="only send query_sm for this message id, report the answer")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="once every receipt is in, keep reading this many seconds for more")
    ap.add_argument("--tls-ca", help="connect over TLS (python's ssl), trusting this CA file")
    ap.add_argument("--tls-cert", help="with --tls-ca: show this client certificate (PEM)")
    ap.add_argument("--tls-key", help="with --tls-cert: its private key (PEM)")
    ap.add_argument("--tls-server-name", default="localhost",
                    help="with --tls-ca: the name checked in the server's certificate")
    ap.add_argument("--bind", default="transceiver", choices=["transceiver", "transmitter", "receiver"])
    ap.add_argument("--source-ip", help="connect from this local address (e.g. 127.0.0.2)")
    ap.add_argument("--expect", type=int, default=0,
                    help="also wait until this many receipts came (a receiver that submits nothing)")
    args = ap.parse_args()

    client = smpplib.client.Client("127.0.0.1", args.port, allow_unknown_opt_params=True,
                                   ssl_context=tls_context(args))
    accepted = {}
    refused = {}
    receipts = {}
    receipt_counts = {}
    receipt_order = []
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
        source = pdu.source_addr.decode(errors="replace") if isinstance(pdu.source_addr, bytes) else str(pdu.source_addr)
        receipts[rid or text] = {"text": text, "state": pdu.message_state, "esm_class": pdu.esm_class,
                                 "source": source}
        receipt_counts[rid or text] = receipt_counts.get(rid or text, 0) + 1
        receipt_order.append(rid or text)

    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_message)
    if args.source_ip:
        client._socket = client._create_socket()
        client._socket.bind((args.source_ip, 0))
    try:
        # smpplib hides the reason of a failed connect; over TLS it is the handshake's.
        if args.tls_ca:
            if client._socket is None:
                client._socket = client._create_socket()
            client._socket.connect((client.host, client.port))
            client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        else:
            client.connect()
        bind = getattr(client, "bind_" + args.bind)
        bind(system_id=args.user, password=args.password)
    except smpplib.exceptions.PDUError as e:
        print(json.dumps({"bind_error": e.args[1] if len(e.args) > 1 else str(e)}))
        return 0
    except (OSError, smpplib.exceptions.ConnectionError) as e:
        print(json.dumps({"connect_error": f"{type(e).__name__}: {e}"}))
        return 0
    # A refused submit is an answer to count (in "refused"), not an exception.
    client.set_error_pdu_handler(lambda pdu: None)
    if args.query:
        q = smpplib.command.QuerySM("query_sm", client=client)
        # smpplib's constructor resets the fields it declares: set them afterwards.
        q.message_id, q.source_addr = args.query, "4610000"
        q.source_addr_ton, q.source_addr_npi = 1, 1
        client.send_pdu(q)
        resp = client.read_pdu()
        final_date = resp.final_date.decode() if isinstance(resp.final_date, bytes) else resp.final_date
        print(json.dumps({"query": {"status": resp.status, "state": resp.message_state,
                                    "final_date": final_date or ""}}))
        client.unbind()
        client.disconnect()
        return 0
    if args.bind_only:
        print(json.dumps({"bound": True}))
        client.unbind()
        client.disconnect()
        return 0

    for i in range(args.count):
        if args.parts:
            encoded = args.text.encode("utf-16-be" if args.coding == 8 else "latin-1")
            size = -(-len(encoded) // args.parts)
            if args.coding == 8:
                size += size % 2
            for seq in range(1, args.parts + 1):
                chunk = encoded[(seq - 1) * size:seq * size]
                udh = bytes([5, 0, 3, (i + 1) & 0xFF, args.parts, seq])
                pdu = client.send_message(
                    source_addr_ton=1, source_addr_npi=1, source_addr="4610000",
                    dest_addr_ton=1, dest_addr_npi=1, destination_addr=args.dest,
                    registered_delivery=0 if args.no_dlr else args.registered_delivery,
                    esm_class=0x40, data_coding=args.coding, short_message=udh + chunk,
                )
                pending_seq[pdu.sequence] = i
            continue
        body = {}
        if args.text is None:
            body["short_message"] = ("%smessage %d" % (args.tag, i)).encode()
        else:
            encoded = args.text.encode("utf-16-be" if args.coding == 8 else "latin-1")
            if args.payload:
                body["short_message"] = b""
                body["message_payload"] = encoded
            else:
                body["short_message"] = encoded
            body["data_coding"] = args.coding
        if args.schedule_in:
            m, sec = divmod(args.schedule_in, 60)
            h, m = divmod(m, 60)
            body["schedule_delivery_time"] = "000000%02d%02d%02d000R" % (h, m, sec)
        if args.validity:
            body["validity_period"] = args.validity
        if args.tlvs:
            body["user_message_reference"] = i
            body["source_port"] = 0x1234
            body["destination_port"] = 0x5678
            body["privacy_indicator"] = 2
            body["language_indicator"] = 1
            # digit mode 0, TON 1, NPI 1, the number in ASCII (SMPP 3.4 §5.3.2.36)
            body["callback_num"] = b"\x00\x01\x01" + b"4670001"
        pdu = client.send_message(
            source_addr_ton=1, source_addr_npi=1, source_addr="4610000",
            dest_addr_ton=1, dest_addr_npi=1, destination_addr=args.dest,
            registered_delivery=0 if args.no_dlr else args.registered_delivery,
            **body,
        )
        pending_seq[pdu.sequence] = i

    deadline = time.time() + args.timeout
    settle = None
    client._socket.settimeout(0.5)
    waits_receipts = not args.no_dlr and args.bind != "transmitter"
    while time.time() < deadline:
        answered = len(accepted) + len(refused)
        if answered == args.count * max(args.parts, 1) and len(receipts) >= args.expect and (
                not waits_receipts or all(m in receipts for m in accepted.values())):
            if settle is None:
                settle = time.time() + args.settle
            if time.time() >= settle:
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
        "submitted": args.count * max(args.parts, 1),
        "accepted": sorted(accepted.values()),
        "accepted_numbers": sorted(pending_seq[s] for s in accepted if s in pending_seq),
        "refused": sorted(refused.values()),
        "receipts": receipts,
        "receipt_counts": receipt_counts,
        "receipt_order": receipt_order,
    }))
    return 0


class _NamedContext:
    """An ssl context that checks `name` in the server's certificate (smpplib wraps the
    socket without a server_hostname)."""

    def __init__(self, context, name):
        self.context = context
        self.name = name

    def wrap_socket(self, sock):
        return self.context.wrap_socket(sock, server_hostname=self.name)


def tls_context(args):
    if not args.tls_ca:
        return None
    import ssl
    context = ssl.create_default_context(cafile=args.tls_ca)
    if args.tls_cert:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    return _NamedContext(context, args.tls_server_name)


if __name__ == "__main__":
    sys.exit(main())
