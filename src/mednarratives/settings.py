"""The workflow configuration's JSON schema, shipped in the package (``mednarratives/schema.yaml``): the one home
of every default. Snakemake validates the config against it and fills in every key a config leaves out
(``validate(config, ...)`` in the Snakefile); code run without a workflow (tests, benchmarks) reads the same
defaults here. Dataclasses of stage parameters take their field defaults from it (``schema_defaults``)."""

from __future__ import annotations

import copy
import dataclasses
import functools
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Callable, Mapping, TypeVar

import yaml

SCHEMA = "schema.yaml"
T = TypeVar("T")
_NONE = object()  # no default


def _schema_file() -> Traversable:
    return resources.files("mednarratives").joinpath(SCHEMA)


def schema_path() -> str:
    """The schema file of the imported package (the Snakefile validates the config against it)."""
    return str(_schema_file())


@functools.cache
def schema() -> dict:
    return yaml.safe_load(_schema_file().read_text(encoding="utf-8"))


def node(*path: str) -> dict:
    """The schema of the config key at `path`, e.g. node("speech", "beam_size")."""
    out = schema()
    for i, key in enumerate(path):
        try:
            out = out["properties"][key]
        except KeyError:
            raise KeyError(f"config key {'.'.join(path[:i + 1])} is not in the schema") from None
    return out


def _default(sub: Mapping[str, Any]) -> Any:
    """A key's `default`; a section's is its own `default` (if any) with its keys' defaults laid over."""
    children = {k: _default(v) for k, v in (sub.get("properties") or {}).items()}
    children = {k: v for k, v in children.items() if v is not _NONE}
    if "default" in sub:
        return {**sub["default"], **children} if children else sub["default"]
    return children or _NONE


def defaults(*path: str) -> Any:
    """The default of the config key at `path` (a fresh copy): a section's is the dict of its keys' defaults."""
    value = _default(node(*path))
    if value is _NONE:  # a key inside a section whose default is given whole (videos.keyframes.default)
        parent = defaults(*path[:-1]) if len(path) > 1 else {}
        if not isinstance(parent, dict) or path[-1] not in parent:
            raise KeyError(f"config key {'.'.join(path)} has no default in the schema")
        return parent[path[-1]]
    return copy.deepcopy(value)


def merged(config: Mapping[str, Any] | None, *path: str) -> dict:
    """The section at `path`: its schema defaults with `config` (the section's values, possibly partial) laid over,
    nested sections merged key by key."""
    def merge(base: dict, over: Mapping[str, Any]) -> dict:
        for k, v in over.items():
            base[k] = merge(base[k], v) if isinstance(v, Mapping) and isinstance(base.get(k), dict) else v
        return base
    return merge(defaults(*path), config or {})


def schema_defaults(*path: str, **elsewhere: tuple[str, ...]) -> Callable[[type[T]], type[T]]:
    """Class decorator, placed below ``@dataclass``: the default of every field that is a key of the config section
    at `path` (or is named in `elsewhere`: field -> key path) is the schema's default of that key; a literal default
    of its own for such a field is an error. Fields that are no config key keep their own."""
    def decorate(cls: type[T]) -> type[T]:
        section = node(*path).get("properties") or {}
        cls.__config_keys__ = {}  # field -> config key path
        for name in cls.__dict__.get("__annotations__", {}):
            if name not in section and name not in elsewhere:  # not a config key: the class's own field
                continue
            if name in cls.__dict__ and not isinstance(cls.__dict__[name], dataclasses.Field):
                raise TypeError(f"{cls.__name__}.{name} has a default of its own; the config schema holds it")
            if name in cls.__dict__:  # a dataclasses.field (e.g. a nested parameter dataclass's factory)
                continue
            cls.__config_keys__[name] = elsewhere.get(name, (*path, name))
            value = defaults(*cls.__config_keys__[name])
            setattr(cls, name, dataclasses.field(default_factory=functools.partial(copy.deepcopy, value))
                    if isinstance(value, (dict, list)) else value)
        return cls
    return decorate


def from_config(cls: type[T], config: Mapping[str, Any] | None = None, **extra: Any) -> T:
    """`cls` (a ``schema_defaults`` dataclass) from a config section: the keys that are its fields, plus `extra`.
    A field holding a nested parameter dataclass (its default_factory) is built from its sub-section alike."""
    fields = {f.name: f for f in dataclasses.fields(cls)}

    def value(key: str, sub: Any) -> Any:
        nested = fields[key].default_factory
        return from_config(nested, sub) if dataclasses.is_dataclass(nested) and isinstance(sub, Mapping) else sub
    return cls(**{k: value(k, v) for k, v in (config or {}).items() if k in fields}, **extra)


def defaults_of_all() -> dict:
    """The whole config of schema defaults (what an empty config file becomes)."""
    return copy.deepcopy(_default(schema()))
