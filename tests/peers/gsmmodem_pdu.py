#!/usr/bin/env python3
"""python-gsmmodem-new's gsmmodem.pdu as an independent oracle for emg's SMS PDU codec.

Reads a JSON list of requests on stdin and prints a JSON list of answers, one per request:
  {"op": "encode_submit", "number", "text", "reference", "smsc"?, "status_report",
   "validity_minutes"? | "validity_absolute"? (ISO 8601 with offset)}
      -> {"pdus": [{"hex", "tpdu_length"}]}
  {"op": "decode", "hex"}
      -> the fields decodeSmsPdu found (datetimes as ISO 8601, timedeltas in seconds, UDH as
         a list of {"id", "data"}, 8-bit text as a list of byte values), or {"error": "..."}
One process for a whole table, so the oracle costs one python start-up.
"""
import json
import sys
from datetime import datetime, timedelta

from gsmmodem import pdu


def encode_submit(req):
    validity = None
    if "validity_minutes" in req:
        validity = timedelta(minutes=req["validity_minutes"])
    elif "validity_absolute" in req:
        validity = datetime.fromisoformat(req["validity_absolute"])
    pdus = pdu.encodeSmsSubmitPdu(
        req["number"],
        req["text"],
        reference=req.get("reference", 0),
        validity=validity,
        smsc=req.get("smsc"),
        requestStatusReport=req.get("status_report", False),
    )
    return {"pdus": [{"hex": str(p), "tpdu_length": p.tpduLength} for p in pdus]}


def plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, pdu.InformationElement):
        return {"id": value.id, "data": list(value.data)}
    return value


def decode(req):
    try:
        fields = pdu.decodeSmsPdu(req["hex"])
    except Exception as e:  # the oracle's refusal is an answer too
        return {"error": f"{type(e).__name__}: {e}"}
    out = {k: plain(v) for k, v in fields.items()}
    if "text" in out and req.get("binary"):
        out["text"] = [ord(c) for c in out["text"]]
    return out


def main():
    answers = []
    for req in json.load(sys.stdin):
        op = req["op"]
        if op == "encode_submit":
            answers.append(encode_submit(req))
        elif op == "decode":
            answers.append(decode(req))
        else:
            answers.append({"error": f"unknown op {op}"})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
