#!/usr/bin/env python3
"""Sends one mail of a given kind with python's smtplib and the email package, as an
application would, and prints {"kind", "code", "message"} (the server's last reply).

  --kind plain|alternative|html|qp|base64|utf8|utf8-undeclared|attachment|nested
  --auth USER:PASS [--mech PLAIN|LOGIN]   authenticate first
  --tls CAFILE                            STARTTLS, trusting CAFILE
  --to ADDR[,ADDR...] --from ADDR         envelope and header addresses (defaults below)
  --text TEXT                             the body of a `plain` mail
"""
import argparse
import json
import smtplib
import ssl
from email.message import EmailMessage

FROM = "alice@example.com"
TO = ["46701234567@sms.example.com"]


def build(kind, sender=FROM, to=TO, text="Lunch at 12?"):
    m = EmailMessage()
    m["From"] = f"Alice Example <{sender}>"
    m["To"] = ", ".join(to)
    m["Subject"] = "Grüße från Åre" if kind.startswith("utf8") else f"kind {kind}"
    opts = []
    if kind == "plain":
        m.set_content(text + "\n", cte="7bit" if text.isascii() else "8bit")
    elif kind == "alternative":
        m.set_content("Plain text part\n")
        m.add_alternative("<html><body><p>HTML <b>part</b></p></body></html>\n", subtype="html")
    elif kind == "html":
        m.set_content("<html><body><p>Only&nbsp;HTML</p><p>second&amp;last</p></body></html>\n",
                      subtype="html")
    elif kind == "qp":
        m.set_content("Räksmörgås for € 5, " * 6 + "\n", cte="quoted-printable")
    elif kind == "base64":
        m.set_content("Priset är 5 €\n", charset="iso-8859-15", cte="base64")
    elif kind in ("utf8", "utf8-undeclared"):
        m.set_content("Hälsningar 😀\n", cte="8bit")
        opts = ["BODY=8BITMIME"] if kind == "utf8" else []
    elif kind == "attachment":
        m.set_content("See the attached picture\n")
        m.add_attachment(bytes(range(256)) * 4, maintype="image", subtype="png",
                         filename="picture.png")
        m.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf",
                         filename="doc.pdf")
    elif kind == "nested":
        inner = EmailMessage()
        inner.set_content("inner plain\n")
        inner.add_alternative("<p>inner html</p>\n", subtype="html")
        m.set_content("outer text\n")
        m.add_attachment(inner)
    else:
        m.set_content("x\n")
    return m, opts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--auth", default="")
    ap.add_argument("--mech", default="")
    ap.add_argument("--tls", default="")
    ap.add_argument("--to", default=",".join(TO))
    ap.add_argument("--from", dest="sender", default=FROM)
    ap.add_argument("--text", default="Lunch at 12?")
    args = ap.parse_args()
    to = args.to.split(",")
    out = {"kind": args.kind}
    try:
        with smtplib.SMTP("127.0.0.1", args.port, timeout=20) as s:
            s.ehlo("smtplib.test")
            if args.tls:
                s.starttls(context=ssl.create_default_context(cafile=args.tls))
                s.ehlo("smtplib.test")
            if args.auth:
                user, password = args.auth.split(":", 1)
                if args.mech:
                    s.user, s.password = user, password
                    code, msg = s.auth(args.mech, getattr(s, "auth_" + args.mech.lower()))
                else:
                    code, msg = s.login(user, password)
            m, opts = build(args.kind, args.sender, to, args.text)
            if not args.text.isascii():
                opts = ["BODY=8BITMIME"]
            refused = s.sendmail(args.sender, to, m.as_bytes(), mail_options=opts)
            out.update(code=250, message="accepted", refused=list(refused))
    except smtplib.SMTPResponseException as e:
        out.update(code=e.smtp_code, message=e.smtp_error.decode(errors="replace"))
    except smtplib.SMTPRecipientsRefused as e:
        code, msg = next(iter(e.recipients.values()))
        out.update(code=code, message=msg.decode(errors="replace"))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
