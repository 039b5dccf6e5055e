"""Scoring planners on an instruction set: exact plans, clarifications with their candidates, refusals.

Why one scorer for the test and the benchmark: tests/planner asserts the accuracy thresholds and
bench/planner_eval.py prints accuracy per category and backend; both must call an answer right or wrong
by the same rule. An answer is exact when the status matches, a plan's steps are equal step by step
(skill and every argument), and a clarifying question names every expected candidate id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embodied_stack.config import ConfigError, load_yaml
from embodied_stack.planner.types import CLARIFY, PLAN, STATUSES, PlanResult, PlanStep
from embodied_stack.planner.world import Place, WorldModel, load_scene


@dataclass(frozen=True)
class Item:
    id: str
    category: str
    scene: str
    instruction: str
    status: str
    steps: tuple[PlanStep, ...] = ()
    candidates: tuple[str, ...] = ()


@dataclass
class Outcome:
    item: Item
    result: PlanResult
    exact: bool
    why: str  # "" when exact
    latency_s: float


def _steps(raw: Any, where: str) -> tuple[PlanStep, ...]:
    steps = []
    for entry in raw or []:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ConfigError(
                f"{where}: each step is one {{skill: {{argument: value}}}} mapping, got {entry!r}"
            )
        ((skill, args),) = entry.items()
        steps.append(PlanStep(str(skill), {str(k): str(v) for k, v in (args or {}).items()}))
    return tuple(steps)


def load_items(path: str | Path) -> list[Item]:
    """The instruction set YAML (``items``: id, category, scene, instruction, status, steps, candidates)."""
    data = load_yaml(path)
    items = []
    for i, raw in enumerate((data or {}).get("items", [])):
        where = f"{path} items[{i}]"
        missing = [k for k in ("id", "category", "scene", "instruction", "status") if k not in raw]
        if missing:
            raise ConfigError(f"{where}: missing {missing}")
        if raw["status"] not in STATUSES:
            raise ConfigError(f"{where}: status {raw['status']!r} must be one of {STATUSES}")
        items.append(
            Item(
                str(raw["id"]),
                str(raw["category"]),
                str(raw["scene"]),
                str(raw["instruction"]),
                raw["status"],
                _steps(raw.get("steps"), where),
                tuple(str(c) for c in raw.get("candidates", ())),
            )
        )
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: item ids must be unique")
    return items


def load_scenes(folder: str | Path, places: Mapping[str, Place]) -> dict[str, WorldModel]:
    return {p.stem: load_scene(p, places) for p in sorted(Path(folder).glob("*.yaml"))}


def judge(item: Item, result: PlanResult) -> str:
    """Why ``result`` is not the expected answer ("" when it is)."""
    if result.status != item.status:
        return f"status {result.status} (expected {item.status}): {result.message}"
    if item.status == PLAN and tuple(result.steps) != item.steps:
        got = " ".join(str(s) for s in result.steps)
        want = " ".join(str(s) for s in item.steps)
        return f"steps [{got}] (expected [{want}])"
    if item.status == CLARIFY:
        missing = [c for c in item.candidates if c not in result.message]
        if missing:
            return f"the question does not list {missing}: {result.message}"
    return ""


def run(
    plan: Callable[[str, WorldModel], PlanResult], items: Iterable[Item], scenes: Mapping[str, WorldModel]
) -> list[Outcome]:
    """Plan every item (each on a fresh copy of its scene) and judge it; latency in s per plan."""
    outcomes = []
    for item in items:
        if item.scene not in scenes:
            raise ConfigError(f"item {item.id}: unknown scene '{item.scene}'; scenes: {sorted(scenes)}")
        world = scenes[item.scene].copy()
        start = time.perf_counter()
        result = plan(item.instruction, world)
        latency = time.perf_counter() - start
        why = judge(item, result)
        outcomes.append(Outcome(item, result, not why, why, latency))
    return outcomes


def accuracy(outcomes: Iterable[Outcome]) -> float:
    outs = list(outcomes)
    return sum(o.exact for o in outs) / len(outs) if outs else 0.0
