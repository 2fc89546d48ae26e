"""BasePredictor / BaseRunner, the @streaming opt-in, and the per-prediction scope (metrics)."""
import contextvars

_scope = contextvars.ContextVar("cog_scope", default=None)


class Scope:
    """The running prediction as seen from inside predict(): metrics go to the server from here."""

    def __init__(self, prediction_id, send):
        self.id = prediction_id
        self._send = send
        self.metrics = {}
        self.canceled = False

    def record_metric(self, name, value, mode="replace"):
        """Record a metric. mode: "replace" (default), "incr" (add to it) or "append" (list of values)."""
        if mode == "replace":
            new = value
        elif mode == "incr":
            new = self.metrics.get(name, 0) + value
        elif mode == "append":
            old = self.metrics.get(name)
            new = (list(old) if isinstance(old, list) else ([] if old is None else [old])) + [value]
        else:
            raise ValueError("record_metric mode must be replace, incr or append, not %r" % (mode,))
        self.metrics[name] = new
        self._send({"type": "metric", "id": self.id, "name": name, "value": new})


class _NoScope:
    """Outside a prediction (e.g. in setup) metrics have nowhere to go; they are dropped."""

    id = None
    metrics = {}

    def record_metric(self, name, value, mode="replace"):
        pass


def current_scope():
    return _scope.get() or _NoScope()


def record_metric(name, value, mode="replace"):
    current_scope().record_metric(name, value, mode)


class BasePredictor:
    def setup(self, weights=None):
        """Load the model once. `weights` is given when the server has weights to pass."""

    def predict(self, **kwargs):
        raise NotImplementedError("predict has not been implemented by parent class.")

    def record_metric(self, name, value, mode="replace"):
        record_metric(name, value, mode)

    @property
    def scope(self):
        return current_scope()


class BaseRunner(BasePredictor):
    """The newer Cog spelling: `run:` in cog.yaml and a `run()` method."""

    def run(self, **kwargs):
        raise NotImplementedError("run has not been implemented by parent class.")


def streaming(fn):
    """Mark a predict/run method (or function) as streaming: the server then accepts SSE clients."""
    fn.__cog_streaming__ = True
    return fn


def concurrent(max=1):  # noqa: A002 - Cog's public keyword
    """`@cog.concurrent(max=N)` on an async predict: up to N predictions at once."""

    def mark(fn):
        fn.__cog_concurrency__ = int(max)
        return fn

    return mark
