"""Request input -> predict() arguments, and predict() results -> JSON-ready output values."""
import io
import os
import pathlib

from .io_files import fetch
from .types import _MISSING, BaseModel, Path, Secret


class InputError(Exception):
    pass


def build_arguments(params, raw, workdir, opened):
    """kwargs for predict(): coerced values, defaults filled, unknown fields dropped (as Cog does)."""
    kwargs = {}
    for name, spec, info in params:
        if name in raw and raw[name] is not None:
            try:
                kwargs[name] = _coerce(spec, raw[name], workdir, opened)
            except InputError as err:
                raise InputError("input %r: %s" % (name, err))
            except Exception as err:  # noqa: BLE001
                raise InputError("input %r: %s" % (name, err))
        elif info.default is not _MISSING:
            kwargs[name] = info.default
        elif spec.optional or name in raw:
            kwargs[name] = None
        else:
            raise InputError("input %r is required" % name)
    return kwargs


def _coerce(spec, value, workdir, opened):
    k = spec.kind
    if k == "int":
        return int(value)
    if k == "float":
        return float(value)
    if k == "str":
        return str(value)
    if k == "path":
        return Path(fetch(str(value), workdir))
    if k == "file":
        f = open(fetch(str(value), workdir), "rb")
        opened.append(f)
        return f
    if k == "secret":
        return Secret(value)
    if k == "list":
        if not isinstance(value, list):
            value = [value]
        return [_coerce(spec.item, v, workdir, opened) for v in value]
    return value


def encode_output(value, outdir):
    """JSON-ready output; files become {"$cogts_file": path} copies under outdir."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Secret):
        return Secret.MASK
    if isinstance(value, pathlib.PurePath):
        return outdir.marker_for_path(value)
    if isinstance(value, io.IOBase) or (hasattr(value, "read") and hasattr(value, "name")):
        return outdir.marker_for_fileobj(value)
    if isinstance(value, BaseModel):
        return {k: encode_output(v, outdir) for k, v in value.dict().items()}
    if isinstance(value, dict):
        return {str(k): encode_output(v, outdir) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode_output(v, outdir) for v in value]
    if hasattr(value, "model_dump"):  # a pydantic model the user brought along
        return encode_output(value.model_dump(), outdir)
    if hasattr(value, "dict") and callable(value.dict):
        return encode_output(value.dict(), outdir)
    if hasattr(value, "tolist"):  # numpy scalars/arrays without importing numpy
        return encode_output(value.tolist(), outdir)
    if hasattr(value, "__fspath__"):
        return outdir.marker_for_path(os.fspath(value))
    return str(value)
