"""Social navigation planners by name: ``social_force``, ``orca``, ``dwa``, ``learned``.

``make_planner(name, overrides)`` builds one from its config dataclass, filled from
``config/navigation/planners.yaml`` (the section named like the planner) and then ``overrides``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from embodied_stack.config import ConfigError, from_dict, load_yaml
from embodied_stack.navigation.planners.base import Planner

PLANNER_CONFIG = "config/navigation/planners.yaml"
PLANNERS = ("social_force", "orca", "dwa", "learned")

__all__ = ["PLANNERS", "PLANNER_CONFIG", "Planner", "make_planner", "planner_params"]


def _classes(name: str) -> tuple[type, type]:
    if name == "social_force":
        from embodied_stack.navigation.planners.social_force import (
            SocialForcePlanner,
            SocialForcePlannerConfig,
        )

        return SocialForcePlanner, SocialForcePlannerConfig
    if name == "orca":
        from embodied_stack.navigation.planners.orca import OrcaPlanner, OrcaPlannerConfig

        return OrcaPlanner, OrcaPlannerConfig
    if name == "dwa":
        from embodied_stack.navigation.planners.dwa import DWAConfig, DWAPlanner

        return DWAPlanner, DWAConfig
    if name == "learned":
        from embodied_stack.navigation.planners.learned import LearnedPlanner, LearnedPlannerConfig

        return LearnedPlanner, LearnedPlannerConfig
    raise ValueError(f"planner {name!r} is unknown; use one of {PLANNERS}")


def planner_params(name: str, config_path: str = PLANNER_CONFIG) -> dict[str, Any]:
    """The YAML section of planner ``name`` (empty when absent)."""
    data = load_yaml(config_path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{config_path}: expected a mapping of planner names to parameters")
    unknown = sorted(set(data) - set(PLANNERS))
    if unknown:
        raise ConfigError(f"{config_path}: unknown planner sections {unknown}; use names in {PLANNERS}")
    return dict(data.get(name) or {})


def make_planner(name: str, overrides: dict[str, Any] | None = None,
                 config_path: str | None = PLANNER_CONFIG) -> Planner:
    """Planner ``name`` with its YAML parameters (``config_path``; None for the dataclass defaults)
    updated by ``overrides``."""
    cls, config_cls = _classes(name)
    params = planner_params(name, config_path) if config_path else {}
    params.update(overrides or {})
    for f in dataclasses.fields(config_cls):  # YAML lists arrive as lists; tuples keep the dataclass frozen
        if isinstance(params.get(f.name), list):
            params[f.name] = tuple(params[f.name])
    return cls(from_dict(config_cls, params, source=f"{config_path or 'defaults'}: {name}"))
