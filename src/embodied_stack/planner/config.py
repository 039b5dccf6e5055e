"""Typed planner settings, filled from ``config/planner.yaml``.

Why no defaults in the dataclasses: the YAML is the one place each value is written; a field missing
from it is an error naming the key, not a silent second default in code. Tests and callers change a
value with ``dataclasses.replace`` on the loaded config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embodied_stack.config import ConfigError, from_dict, load_yaml

DEFAULT_CONFIG = "config/planner.yaml"
BACKENDS = ("embedded", "http", "transformers")


@dataclass(frozen=True)
class EmbeddedConfig:
    use_sentence_model: bool
    synonym_threshold: float  # cosine similarity
    synonym_margin: float


@dataclass(frozen=True)
class FeasibilityConfig:
    memory_tau_s: float  # s
    choose_ratio: float


@dataclass(frozen=True)
class HttpConfig:
    endpoint: str
    model: str
    api_key: str
    output: str  # "json_schema" | "tools"
    temperature: float
    max_tokens: int
    repair_rounds: int


@dataclass(frozen=True)
class TransformersConfig:
    lm_path: str
    gguf_file: str
    max_steps: int
    num_threads: int


@dataclass(frozen=True)
class PlannerConfig:
    backend: str
    timeout_s: float  # s
    max_replans: int
    skills: str
    places: str
    embedded: EmbeddedConfig
    feasibility: FeasibilityConfig
    http: HttpConfig
    transformers: TransformersConfig


def _section(cls: type, data: dict[str, Any], key: str, source: str) -> Any:
    raw = data.get(key)
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: '{key}' must be a mapping (see config/planner.yaml)")
    try:
        return from_dict(cls, raw, f"{source} {key}")
    except TypeError as exc:
        raise ConfigError(f"{source}: '{key}' is missing a key: {exc}") from exc


def planner_config_from_dict(data: dict[str, Any], source: str = "planner config") -> PlannerConfig:
    nested = {
        "embedded": EmbeddedConfig,
        "feasibility": FeasibilityConfig,
        "http": HttpConfig,
        "transformers": TransformersConfig,
    }
    flat = {k: v for k, v in data.items() if k not in nested}
    try:
        cfg = from_dict(
            PlannerConfig, {**flat, **{k: _section(c, data, k, source) for k, c in nested.items()}}, source
        )
    except TypeError as exc:
        raise ConfigError(f"{source}: missing key: {exc}") from exc
    check_config(cfg, source)
    return cfg


def check_config(cfg: PlannerConfig, source: str = "planner config") -> None:
    """Reject values no planner can run with; each message names the key and the valid range."""
    if cfg.backend not in BACKENDS:
        raise ConfigError(f"{source}: backend '{cfg.backend}' is not one of {BACKENDS}")
    if not cfg.timeout_s > 0:
        raise ConfigError(f"{source}: timeout_s must be > 0 s, got {cfg.timeout_s}")
    if not isinstance(cfg.max_replans, int) or cfg.max_replans < 0:
        raise ConfigError(f"{source}: max_replans must be an integer >= 0, got {cfg.max_replans!r}")
    if cfg.http.output not in ("json_schema", "tools"):
        raise ConfigError(f"{source}: http.output '{cfg.http.output}' must be json_schema or tools")
    if cfg.http.repair_rounds < 0:
        raise ConfigError(f"{source}: http.repair_rounds must be >= 0, got {cfg.http.repair_rounds}")
    if cfg.feasibility.memory_tau_s <= 0 or cfg.feasibility.choose_ratio < 1.0:
        raise ConfigError(
            f"{source}: feasibility.memory_tau_s must be > 0 s and choose_ratio >= 1, got {cfg.feasibility}"
        )
    if cfg.transformers.max_steps < 1:
        raise ConfigError(f"{source}: transformers.max_steps must be >= 1, got {cfg.transformers.max_steps}")


def load_planner_config(path: str | Path = DEFAULT_CONFIG) -> PlannerConfig:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (see config/planner.yaml)")
    return planner_config_from_dict(data, str(path))
