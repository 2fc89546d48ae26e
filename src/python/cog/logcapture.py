"""sys.stdout/sys.stderr replacements that send what a prediction prints as log frames.

Attribution: the prediction whose context is running (contextvar, right for async predictors),
else the only active prediction (threads the model started), else setup/unattributed (id None).
Text is line-buffered so `print()` makes one frame, not two.
"""
import threading

from .predictor import _scope


class LogStream:
    def __init__(self, source, runner, original):
        self.source = source
        self._runner = runner
        self._original = original
        self._buffers = {}
        self._lock = threading.Lock()
        self.encoding = "utf-8"
        self.errors = "replace"

    def _owner(self):
        scope = _scope.get()
        if scope is not None:
            return scope.id
        return self._runner.sole_active_id()

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        if not text:
            return 0
        owner = self._owner()
        with self._lock:
            buf = self._buffers.get(owner, "") + text
            cut = buf.rfind("\n") + 1
            if cut:
                self._buffers[owner] = buf[cut:]
                out = buf[:cut]
            else:
                self._buffers[owner] = buf
                out = None
        if out:
            self._runner.send_log(owner, self.source, out)
        return len(text)

    def flush_owner(self, owner):
        with self._lock:
            out = self._buffers.pop(owner, "")
        if out:
            self._runner.send_log(owner, self.source, out)

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def closed(self):
        return False

    @property
    def buffer(self):
        # Libraries that write bytes (sys.stdout.buffer.write) are captured too.
        return _BinaryView(self)

    def readable(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        # Libraries that need a real fd (faulthandler, subprocess) get the process's own stream,
        # which the server also reads and attributes.
        return self._original.fileno()

    def writelines(self, lines):
        for line in lines:
            self.write(line)


class _BinaryView:
    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass
