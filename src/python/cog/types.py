"""Types a predictor uses in its signature: Path, File, Secret, ConcatenateIterator, Input, BaseModel."""
import io
import pathlib
import typing

# Every Python from 3.8 on: `pathlib.Path` subclassing needs the concrete flavour class.
_PathBase = type(pathlib.Path())


class CancelationException(Exception):
    """Raised inside a running prediction when it is cancelled. Do not swallow it."""


# Cog spelled it both ways over the years.
CancellationException = CancelationException


class Path(_PathBase):
    """A file input or output. Inputs arrive as URLs and are given to predict() as local paths."""


class File(io.IOBase):
    """Deprecated Cog type: a file input given to predict() as an open binary file object."""


class Secret:
    """A string that is never shown: repr/str and JSON output print asterisks."""

    MASK = "**********"

    def __init__(self, secret_value=None):
        self._secret_value = secret_value

    def get_secret_value(self):
        return self._secret_value

    def __repr__(self):
        return "Secret(%s)" % (self.MASK if self._secret_value is not None else "None")

    def __str__(self):
        return self.MASK if self._secret_value is not None else ""

    def __eq__(self, other):
        return isinstance(other, Secret) and other._secret_value == self._secret_value

    def __hash__(self):
        return hash(self._secret_value)


_T = typing.TypeVar("_T")


class ConcatenateIterator(typing.Iterator[_T]):
    """An iterator output whose chunks a client should join (e.g. tokens of generated text)."""


class AsyncConcatenateIterator(typing.AsyncIterator[_T]):
    """The async spelling of ConcatenateIterator."""


_MISSING = object()


class FieldInfo:
    """What `Input(...)` returns: the default plus the constraints the schema and coercion use."""

    __slots__ = (
        "default",
        "description",
        "ge",
        "le",
        "min_length",
        "max_length",
        "regex",
        "choices",
        "deprecated",
    )

    def __init__(self, default, description, ge, le, min_length, max_length, regex, choices, deprecated):
        self.default = default
        self.description = description
        self.ge = ge
        self.le = le
        self.min_length = min_length
        self.max_length = max_length
        self.regex = regex
        self.choices = choices
        self.deprecated = deprecated

    def __repr__(self):
        return "Input(default=%r)" % (self.default,)


def Input(  # noqa: N802 - Cog's public spelling
    default=_MISSING,
    description=None,
    ge=None,
    le=None,
    min_length=None,
    max_length=None,
    regex=None,
    choices=None,
    deprecated=None,
    **_ignored
):
    """Describe a predict() argument. `default=...` (Ellipsis) means required, as in Cog."""
    if default is Ellipsis:
        default = _MISSING
    return FieldInfo(default, description, ge, le, min_length, max_length, regex, choices, deprecated)


class BaseModel:
    """Base of object outputs: annotated class attributes become fields (no pydantic needed).

    `class Output(BaseModel): text: str; score: float = 0.0` then `Output(text="x")`.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__cog_fields__ = tuple(_own_and_inherited_annotations(cls))

    def __init__(self, **values):
        for name in type(self).__cog_fields__:
            if name in values:
                setattr(self, name, values.pop(name))
            elif not hasattr(type(self), name):
                raise TypeError("%s() missing field %r" % (type(self).__name__, name))
        if values:
            raise TypeError("%s() got unknown fields %s" % (type(self).__name__, ", ".join(sorted(values))))

    def dict(self):
        return {name: getattr(self, name) for name in type(self).__cog_fields__}

    # pydantic v2 spelling
    model_dump = dict

    def __repr__(self):
        inner = ", ".join("%s=%r" % kv for kv in self.dict().items())
        return "%s(%s)" % (type(self).__name__, inner)

    def __eq__(self, other):
        return type(other) is type(self) and other.dict() == self.dict()


def _own_and_inherited_annotations(cls):
    names = []
    for klass in reversed(cls.__mro__):
        for name in getattr(klass, "__dict__", {}).get("__annotations__", {}):
            if name not in names and not name.startswith("_"):
                names.append(name)
    return names
