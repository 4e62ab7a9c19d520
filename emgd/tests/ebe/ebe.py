#!/usr/bin/env python3
"""An EBE program for emgd/tests/ebe_connector.rs, the python twin of ebe.sh: what it does
depends on the last digit of the destination; its state lives next to it."""
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
mid, dest = os.environ["EMG_ID"], os.environ["EMG_DESTADDR"]
text = sys.stdin.read()
with open(os.path.join(here, "runs.txt"), "a") as f:
    f.write("%s %s %s %s\n" % (mid, dest, os.environ.get("EMG_CONNECTOR", ""), text))


def once(name):
    """True the first time it is asked for this message."""
    marker = os.path.join(here, "%s-%s" % (name, mid))
    if os.path.exists(marker):
        return False
    open(marker, "w").close()
    return True


last = dest[-1]
if last == "1":
    print("py-" + mid)
elif last == "2":
    if once("tried"):
        print("busy, try later", file=sys.stderr)
        sys.exit(75)
    print("py-" + mid)
elif last == "3":
    print("no such subscriber", file=sys.stderr)
    sys.exit(3)
elif last == "4":
    if once("hung"):
        child = subprocess.Popen(["sleep", "300"])
        with open(os.path.join(here, "child.pid"), "w") as f:
            f.write(str(child.pid))
        time.sleep(300)
    print("py-" + mid)
elif last == "5":
    sys.stdout.buffer.write(b"\xff\xfe garbage\n")
elif last == "6":
    with open(os.path.join(here, "remote-id")) as f:
        print(f.read().strip())
