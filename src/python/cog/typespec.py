"""Reduces a Python annotation to the small set of shapes Cog supports (one place for both the
schema and input coercion to agree on)."""
import collections.abc
import inspect
import pathlib
import sys
import typing

from .types import AsyncConcatenateIterator, BaseModel, ConcatenateIterator, File, Path, Secret

try:  # Python 3.10+: `X | None`
    from types import UnionType as _UnionType
except ImportError:  # pragma: no cover - older Pythons
    _UnionType = None

_ITERATORS = (
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
)
_ASYNC_ITERATORS = (collections.abc.AsyncIterator, collections.abc.AsyncIterable, collections.abc.AsyncGenerator)


class SchemaError(Exception):
    """The predictor's signature uses something Cog cannot serve (message names the parameter)."""


class Spec:
    """kind is one of: str int float bool path file secret any dict list literal model iterator."""

    __slots__ = ("kind", "item", "values", "model", "optional", "concatenate", "is_async")

    def __init__(self, kind, item=None, values=None, model=None):
        self.kind = kind
        self.item = item
        self.values = values
        self.model = model
        self.optional = False
        self.concatenate = False
        self.is_async = False


_SCALARS = {str: "str", int: "int", float: "float", bool: "bool", dict: "dict"}


def spec_of(annotation, where):
    """Spec for an annotation; `where` names the parameter in errors."""
    if annotation is inspect.Parameter.empty or annotation is typing.Any or annotation is None:
        return Spec("any")
    if annotation in _SCALARS:
        return Spec(_SCALARS[annotation])
    if isinstance(annotation, type):
        if issubclass(annotation, Secret):
            return Spec("secret")
        if issubclass(annotation, File):
            return Spec("file")
        if issubclass(annotation, (Path, pathlib.PurePath)):
            return Spec("path")
        if issubclass(annotation, BaseModel):
            return Spec("model", model=annotation)
        if annotation is list:
            return Spec("list", item=Spec("any"))
        if issubclass(annotation, (ConcatenateIterator, AsyncConcatenateIterator)):
            return _iterator(Spec("str"), annotation, True)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or (_UnionType is not None and origin is _UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            inner = spec_of(rest[0], where)
            inner.optional = True
            return inner
        raise SchemaError("%s: unions other than Optional[T] are not supported" % where)
    if origin is typing.Literal:
        return Spec("literal", values=list(args))
    if origin in (list, typing.List):
        return Spec("list", item=spec_of(args[0], where) if args else Spec("any"))
    if origin is dict:
        return Spec("dict")
    if isinstance(origin, type) and issubclass(origin, (ConcatenateIterator, AsyncConcatenateIterator)):
        return _iterator(spec_of(args[0], where) if args else Spec("str"), origin, True)
    if origin in _ITERATORS:
        return _iterator(spec_of(args[0], where) if args else Spec("any"), origin, False)
    raise SchemaError("%s: unsupported type %r" % (where, annotation))


def _iterator(item, origin, concatenate):
    s = Spec("iterator", item=item)
    s.concatenate = concatenate
    s.is_async = origin is AsyncConcatenateIterator or origin in _ASYNC_ITERATORS
    return s


def type_hints(fn):
    """Resolved annotations (string annotations evaluated in the function's module)."""
    try:
        return typing.get_type_hints(fn)
    except Exception as err:  # noqa: BLE001 - report, e.g., list[int] on Python 3.8
        raise SchemaError(
            "cannot resolve the annotations of %s (Python %d.%d): %s"
            % (getattr(fn, "__qualname__", fn), sys.version_info[0], sys.version_info[1], err)
        )
