"""Predictor signature -> OpenAPI component schemas `Input` and `Output`.

The rules are written down in SCHEMA.md; a static (no-Python) generator must reproduce them
byte for byte, so every key here is emitted in the documented order and nothing depends on
the running Python beyond the signature itself.
"""
import inspect

from .types import _MISSING, FieldInfo, Secret
from .typespec import SchemaError, spec_of, type_hints


def title_of(name):
    """"num_outputs" -> "Num Outputs": split on "_", upper-case each word's first letter."""
    return " ".join(w[0].upper() + w[1:] for w in name.split("_") if w)


def base_schema(spec):
    """The type part of a property (no title/description): keys type, format, items, enum."""
    k = spec.kind
    if k == "str":
        return {"type": "string"}
    if k == "int":
        return {"type": "integer"}
    if k == "float":
        return {"type": "number"}
    if k == "bool":
        return {"type": "boolean"}
    if k == "dict":
        return {"type": "object"}
    if k in ("path", "file"):
        return {"type": "string", "format": "uri"}
    if k == "secret":
        return {"type": "string", "format": "password"}
    if k == "list":
        items = base_schema(spec.item)
        if spec.item.kind == "secret":
            # Each Secret in a list is marked like a Secret parameter, so every element is masked.
            items.update({"writeOnly": True, "x-cog-secret": True})
        return {"type": "array", "items": items}
    if k == "literal":
        return {"type": _json_type(spec.values[0]), "enum": list(spec.values)}
    if k == "model":
        return model_schema(spec.model)
    if k == "iterator":
        out = {"type": "array", "items": base_schema(spec.item), "x-cog-array-type": "iterator"}
        if spec.concatenate:
            out["x-cog-array-display"] = "concatenate"
        return out
    return {}


def _json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def model_schema(cls):
    hints = type_hints(cls)
    props = {}
    required = []
    for order, name in enumerate(cls.__cog_fields__):
        spec = spec_of(hints.get(name, inspect.Parameter.empty), "%s.%s" % (cls.__name__, name))
        prop = {"title": title_of(name)}
        prop.update(base_schema(spec))
        if spec.optional:
            prop["nullable"] = True
        prop["x-order"] = order
        props[name] = prop
        if not spec.optional and not hasattr(cls, name):
            required.append(name)
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _json_default(value):
    if isinstance(value, Secret):
        return Secret.MASK
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def input_params(fn):
    """[(name, spec, FieldInfo)] for the parameters of predict/run/train (self excluded)."""
    hints = type_hints(fn)
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        spec = spec_of(hints.get(p.name, inspect.Parameter.empty), "parameter %r" % p.name)
        if spec.kind in ("iterator", "model"):
            raise SchemaError("parameter %r: %s is only supported as an output" % (p.name, spec.kind))
        if isinstance(p.default, FieldInfo):
            info = p.default
        else:
            info = FieldInfo(
                _MISSING if p.default is p.empty else p.default, None, None, None, None, None, None, None, None
            )
        params.append((p.name, spec, info))
    return params


def input_schema(params, title="Input"):
    props = {}
    required = []
    for order, (name, spec, info) in enumerate(params):
        prop = {"title": title_of(name)}
        prop.update(base_schema(spec))
        if info.choices is not None:
            prop["enum"] = list(info.choices)
        if info.default is not _MISSING and info.default is not None:
            prop["default"] = _json_default(info.default)
        if info.description is not None:
            prop["description"] = info.description
        if info.ge is not None:
            prop["minimum"] = info.ge
        if info.le is not None:
            prop["maximum"] = info.le
        is_array = spec.kind == "list"
        if info.min_length is not None:
            prop["minItems" if is_array else "minLength"] = info.min_length
        if info.max_length is not None:
            prop["maxItems" if is_array else "maxLength"] = info.max_length
        if info.regex is not None:
            prop["pattern"] = info.regex
        if spec.optional:
            prop["nullable"] = True
        if info.deprecated:
            prop["deprecated"] = True
        if spec.kind == "secret":
            prop["writeOnly"] = True
            prop["x-cog-secret"] = True
        prop["x-order"] = order
        props[name] = prop
        if info.default is _MISSING and not spec.optional:
            required.append(name)
    out = {"title": title, "type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def output_schema(fn, title="Output"):
    hints = type_hints(fn)
    spec = spec_of(hints.get("return", inspect.Parameter.empty), "return type")
    if spec.optional:
        raise SchemaError("return type: Optional[...] is not supported as an output")
    out = {"title": title}
    out.update(base_schema(spec))
    if spec.kind == "secret":
        out["x-cog-secret"] = True
    return out, spec
