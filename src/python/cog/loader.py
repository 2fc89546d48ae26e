"""Finds the predictor/trainer a cog.yaml names ("predict.py:Predictor") and describes it."""
import importlib.util
import inspect
import os
import sys

from .predictor import BaseRunner
from .schema import input_params, input_schema, output_schema


class LoadError(Exception):
    pass


def load_object(ref, cwd):
    """"path/to/file.py:Name" (relative to cwd) or "package.module:Name" -> the object."""
    module_ref, sep, name = ref.partition(":")
    if not sep or not name:
        raise LoadError("%r must look like predict.py:Predictor" % ref)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if module_ref.endswith(".py"):
        path = os.path.join(cwd, module_ref)
        if not os.path.isfile(path):
            raise LoadError("%s not found (from %r)" % (path, ref))
        mod_name = os.path.splitext(os.path.basename(module_ref))[0]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_ref)
    if not hasattr(module, name):
        raise LoadError("%s has no %r (from %r)" % (module_ref, name, ref))
    return getattr(module, name)


class Target:
    """A loaded predict/run/train entry: the callable plus everything the schema needs."""

    def __init__(self, obj, method_names, title_in, title_out):
        if inspect.isclass(obj):
            self.instance = obj()
            self.fn = None
            for m in method_names:
                candidate = getattr(self.instance, m, None)
                if candidate is None:
                    continue
                # BaseRunner subclasses that only define predict() still work (and vice versa).
                if m == "run" and type(self.instance).run is BaseRunner.run:
                    continue
                self.fn = candidate
                break
            if self.fn is None:
                raise LoadError("%s defines none of %s()" % (obj.__name__, "/".join(method_names)))
        elif callable(obj):
            self.instance = None
            self.fn = obj
        else:
            raise LoadError("%r is neither a class nor a function" % (obj,))
        raw = getattr(self.fn, "__func__", self.fn)
        self.is_async = inspect.iscoroutinefunction(raw) or inspect.isasyncgenfunction(raw)
        self.params = input_params(self.fn)
        self.input_schema = input_schema(self.params, title_in)
        self.output_schema, self.output_spec = output_schema(self.fn, title_out)
        self.streaming = bool(getattr(raw, "__cog_streaming__", False)) or self.output_spec.kind == "iterator"
        self.concurrency = getattr(raw, "__cog_concurrency__", None)
        hc = getattr(self.instance, "healthcheck", None) if self.instance is not None else None
        self.healthcheck = hc if callable(hc) else None

    def setup_fn(self):
        return getattr(self.instance, "setup", None) if self.instance is not None else None


def load_target(ref, cwd, train=False):
    obj = load_object(ref, cwd)
    if train:
        return Target(obj, ("train",), "TrainingInput", "TrainingOutput")
    return Target(obj, ("run", "predict"), "Input", "Output")
