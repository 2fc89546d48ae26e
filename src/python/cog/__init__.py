"""cog: the Python SDK a Cog model imports, implemented with the standard library only (cogts)."""
from .predictor import BasePredictor, BaseRunner, concurrent, current_scope, record_metric, streaming
from .types import (
    AsyncConcatenateIterator,
    BaseModel,
    CancelationException,
    CancellationException,
    ConcatenateIterator,
    File,
    Input,
    Path,
    Secret,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "CancellationException",
    "ConcatenateIterator",
    "File",
    "Input",
    "Path",
    "Secret",
    "concurrent",
    "current_scope",
    "record_metric",
    "streaming",
]
