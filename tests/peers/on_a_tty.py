"""Run a program with a pseudo-terminal as its standard output and error (python's own pty
module), stop it with SIGTERM once it has printed WORD, and print everything it wrote to the
terminal, as a terminal would have shown it (bytes unchanged, escape sequences included).

    python3 on_a_tty.py WORD PROGRAM [ARGS...]

Exits with the program's exit status; 124 when WORD did not appear within 30 s (the program
is then killed). Used by emgd/tests/general_log.rs: emgd colours its log only on a terminal.
"""
import os
import pty
import select
import signal
import sys
import time

word = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])

out = b""
deadline = time.time() + 30
stopped = timed_out = False
while True:
    if not stopped and word in out:
        os.kill(pid, signal.SIGTERM)
        stopped = True
    if not stopped and time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        stopped = timed_out = True
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO: the program closed the terminal (it exited)
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stdout.flush()
if timed_out:
    sys.exit(124)
sys.exit(os.waitstatus_to_exitcode(status))
