"""Loading YAML under ``config/`` into typed dataclasses.

Why: ``config/`` is the single source of truth for parameters, topics and robots.
Nodes read their ROS parameter files (``/**: ros__parameters:`` layout) and the
ROS-free cores read the same files through :func:`load_node_params`, so a value is
written once and both paths see it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from embodied_stack import paths

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the file, key and fix."""


def load_yaml(path: str | Path) -> Any:
    resolved = paths.resolve(path)
    try:
        with open(resolved, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {resolved}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"invalid YAML in {resolved}: {e}") from e


def load_node_params(path: str | Path, node_name: str | None = None) -> dict[str, Any]:
    """Read the ``ros__parameters`` of a ROS 2 params file, merged as ROS does:
    ``/**`` first, then the entry for ``node_name`` (with or without a leading ``/``)."""
    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of node names to ros__parameters")
    merged: dict[str, Any] = {}
    keys = ["/**"]
    if node_name:
        keys += [node_name, "/" + node_name.lstrip("/")]
    for key in keys:
        section = data.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or "ros__parameters" not in section:
            raise ConfigError(f"{path}: section '{key}' needs a 'ros__parameters' mapping")
        merged.update(_flatten(section["ros__parameters"]))
    return merged


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """ROS params files nest dicts; rclpy names them with dots (``a.b``)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        else:
            out[name] = v
    return out


def from_dict(cls: type[T], data: dict[str, Any], source: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys by name.

    Why strict: a misspelt key silently falling back to a default is the most common
    way a robot runs with a parameter nobody intended.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {unknown} for {cls.__name__}; valid keys: {sorted(fields)}"
        )
    return cls(**data)
