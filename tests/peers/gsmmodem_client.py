#!/usr/bin/env python3
"""python-gsmmodem-new driving a (simulated) GSM modem: a third-party client for emgmodem.

  gsmmodem_client.py --port /dev/ttyX [--send NUMBER TEXT]... [--report] [--receive N]
                     [--stored MEMORY] [--timeout S]

Connects (the library's full start-up dialogue), sends each message (waiting for its status
report with --report), waits for N messages to arrive through +CMTI (read and deleted by the
library), lists what is stored in MEMORY (SM, ME) with --stored, and prints one JSON object:
  {"sent": [{"to", "reference", "report": status|None}], "received": [{"number", "text"}],
   "stored": [{"number", "text", "index"}], "manufacturer", "model", "imei"}
"""
import argparse
import json
import sys
import threading
import time

from gsmmodem.modem import GsmModem


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", required=True)
    p.add_argument("--send", nargs=2, action="append", default=[], metavar=("NUMBER", "TEXT"))
    p.add_argument("--report", action="store_true")
    p.add_argument("--receive", type=int, default=0)
    p.add_argument("--stored", metavar="MEMORY")
    p.add_argument("--timeout", type=float, default=20)
    a = p.parse_args()

    received = []
    arrived = threading.Condition()

    def on_sms(sms):
        with arrived:
            received.append({"number": sms.number, "text": sms.text})
            arrived.notify_all()

    modem = GsmModem(a.port, 115200, smsReceivedCallbackFunc=on_sms)
    modem.connect()
    out = {
        "manufacturer": modem.manufacturer,
        "model": modem.model,
        "imei": modem.imei,
        "sent": [],
        "received": received,
        "stored": [],
    }
    for number, text in a.send:
        sms = modem.sendSms(number, text, waitForDeliveryReport=a.report, deliveryTimeout=a.timeout)
        report = sms.report.deliveryStatus if sms.report is not None else None
        out["sent"].append({"to": number, "reference": sms.reference, "report": report})
    deadline = time.monotonic() + a.timeout
    with arrived:
        while len(received) < a.receive and time.monotonic() < deadline:
            arrived.wait(0.1)
    if a.stored:
        for sms in modem.listStoredSms(memory=a.stored):
            out["stored"].append({"number": sms.number, "text": sms.text})
    modem.close()
    json.dump(out, sys.stdout)
    if len(received) < a.receive:
        sys.exit(f"only {len(received)} of {a.receive} messages arrived in {a.timeout} s")


if __name__ == "__main__":
    main()
