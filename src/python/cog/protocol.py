"""The runner's half of the one server<->runner protocol (mirror of src/worker/protocol.ts).

One JSON object per line over a Unix stream socket. Files travel as paths, marked inside output
values as {"$cogts_file": "/abs/path"}.
"""
import json
import threading

FILE_MARKER = "$cogts_file"


class Channel:
    """A framed, thread-safe connection: any thread may send; one reader thread receives."""

    def __init__(self, sock):
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._lock = threading.Lock()

    def send(self, frame):
        data = (json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=_fallback) + "\n").encode(
            "utf-8"
        )
        with self._lock:
            self._sock.sendall(data)

    def receive(self):
        """Next frame, or None when the server closed the socket."""
        line = self._reader.readline()
        if not line:
            return None
        return json.loads(line)


def _fallback(value):
    # Anything json cannot encode is shown, never a crash of the runner.
    return repr(value)
