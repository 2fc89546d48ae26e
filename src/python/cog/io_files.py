"""Input files from URLs (data: decoded, http(s):// downloaded with limits) and file outputs copied
into a directory the server reads (files travel as paths, never inline)."""
import base64
import mimetypes
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request

from .protocol import FILE_MARKER

MAX_DOWNLOAD_BYTES = int(os.environ.get("COGTS_MAX_DOWNLOAD_BYTES", str(1 << 30)))
DOWNLOAD_TIMEOUT_S = float(os.environ.get("COGTS_DOWNLOAD_TIMEOUT_S", "60"))

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class InputFileError(Exception):
    pass


def _safe_name(name, fallback):
    name = _SAFE.sub("_", os.path.basename(name or "")).strip("._")
    return name[:100] or fallback


class LazyDir:
    """A private temp folder made on first use (most predictions never need one)."""

    def __init__(self, prefix):
        self._prefix = prefix
        self.path = None

    def __call__(self):
        if self.path is None:
            self.path = tempfile.mkdtemp(prefix=self._prefix)
        return self.path

    def remove(self):
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


def fetch(url, lazy_dir):
    """A local path holding the content of a data: or http(s):// URL (in lazy_dir())."""
    workdir = lazy_dir()
    if url.startswith("data:"):
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise InputFileError("malformed data URL (no comma)")
        mime = header.split(";")[0] or "application/octet-stream"
        data = base64.b64decode(payload) if header.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
        ext = mimetypes.guess_extension(mime) or ""
        return _write(workdir, "input" + ext, data)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise InputFileError("file inputs must be http(s):// or data: URLs, not %r" % (url[:60],))
    name = _safe_name(urllib.parse.unquote(urllib.parse.urlsplit(url).path), "input")
    fd, path = tempfile.mkstemp(prefix="in-", suffix="-" + name, dir=workdir)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, os.fdopen(fd, "wb") as out:
            total = 0
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_DOWNLOAD_BYTES:
                    raise InputFileError("%s is larger than %d bytes" % (url, MAX_DOWNLOAD_BYTES))
                out.write(chunk)
    except InputFileError:
        raise
    except Exception as err:  # noqa: BLE001 - any network failure is the input's fault here
        raise InputFileError("cannot download %s: %s" % (url, err))
    return path


def _write(workdir, name, data):
    fd, path = tempfile.mkstemp(prefix="in-", suffix="-" + name, dir=workdir)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


class OutputDir:
    """Where a prediction's file outputs are copied so later writes by the model cannot change them."""

    def __init__(self):
        self._root = LazyDir("cogts-out-")
        self._n = 0

    def _next_dir(self):
        self._n += 1
        return os.path.join(self._root(), str(self._n))

    def marker_for_path(self, src):
        dst_dir = self._next_dir()
        os.makedirs(dst_dir, exist_ok=True)
        dst = os.path.join(dst_dir, _safe_name(os.path.basename(str(src)), "output"))
        shutil.copyfile(str(src), dst)
        return {FILE_MARKER: dst}

    def marker_for_fileobj(self, fobj):
        dst_dir = self._next_dir()
        os.makedirs(dst_dir, exist_ok=True)
        dst = os.path.join(dst_dir, _safe_name(getattr(fobj, "name", None), "output"))
        if hasattr(fobj, "seek"):
            try:
                fobj.seek(0)
            except Exception:  # noqa: BLE001 - unseekable streams are copied from where they are
                pass
        with open(dst, "wb") as out:
            shutil.copyfileobj(fobj, out)
        return {FILE_MARKER: dst}
