"""The one rollout loop: planners × scenarios × crowd densities over seeded episodes, scored by metrics.

Why one loop for everything (the CLI, bench/ and the tests): a result is reproducible from its arguments
(episode ``i`` of every cell is reset with ``seed + i``, the same seeds for every planner, so planners
are compared on identical episodes), and the decision latency is measured where decisions are made.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embodied_stack.config import ConfigError, load_yaml
from embodied_stack.navigation.env import SocialNavEnv
from embodied_stack.navigation.metrics import Trajectory, aggregate, episode_metrics
from embodied_stack.navigation.planners import Planner, make_planner
from embodied_stack.navigation.scenarios import SCENARIOS

EVAL_CONFIG = "config/navigation/eval.yaml"


@dataclass
class CellResult:
    """One planner on one scenario at one density."""

    planner: str
    scenario: str
    people: int
    metrics: dict[str, float]  # :func:`aggregate` of the episodes
    episodes: list[dict[str, float]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # one per control step
    trajectories: list[Trajectory] = field(default_factory=list)  # the first few, for plots

    def as_json(self) -> dict[str, Any]:
        lat = np.asarray(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        return {"planner": self.planner, "scenario": self.scenario, "people": self.people,
                **{k: _finite(v) for k, v in self.metrics.items()},
                "decision_ms_p50": _finite(float(np.percentile(lat, 50))),
                "decision_ms_p99": _finite(float(np.percentile(lat, 99)))}


def _finite(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)


def load_eval_config(path: str = EVAL_CONFIG) -> dict[str, Any]:
    """``env`` (SocialNavEnv kwargs), ``seed``, ``episodes``, ``people`` of the evaluation protocol."""
    data = load_yaml(path) or {}
    if not isinstance(data, dict) or not isinstance(data.get("env", {}), dict):
        raise ConfigError(f"{path}: expected a mapping with an 'env' mapping of SocialNavEnv arguments")
    return data


def run_episode(env: SocialNavEnv, planner: Planner, seed: int, scenario: str, people: int,
                latencies: list[float] | None = None) -> Trajectory:
    """One episode of ``planner`` in ``env``; appends each decision's wall time (ms) to ``latencies``."""
    env.reset(seed=seed, options={"scenario": scenario, "people": people})
    planner.reset()
    done = False
    while not done:
        obs = env.nav_observation()
        start = time.perf_counter()
        twist = planner.act(obs)
        if latencies is not None:
            latencies.append((time.perf_counter() - start) * 1e3)
        _, _, terminated, truncated, _ = env.step_twist(twist)
        done = terminated or truncated
    return env.trajectory()


def make_env(planners: Iterable[Planner], env_kwargs: dict[str, Any] | None = None) -> SocialNavEnv:
    """The evaluation env for ``planners``: ``env_kwargs`` plus the scan they read (``Planner.scan_input``),
    as the navigation node gives it to them."""
    kwargs = dict(env_kwargs or {})
    scans = {(p.scan_input.beams, p.scan_input.range) for p in planners if p.scan_input}
    if len(scans) > 1:
        raise ValueError(f"the planners read different scans (beams, range m) {sorted(scans)}; one "
                         "environment gives one: evaluate them separately or give them the same scan")
    if scans:
        kwargs["scan_beams"], kwargs["scan_range"] = scans.pop()
    return SocialNavEnv(**kwargs)


def evaluate(planners: Sequence[str], scenarios: Sequence[str], people: Sequence[int], episodes: int,
             seed: int, env_kwargs: dict[str, Any] | None = None,
             planner_overrides: dict[str, dict[str, Any]] | None = None,
             keep_trajectories: int = 1) -> list[CellResult]:
    """Every planner × scenario × density cell, ``episodes`` episodes each, seeds ``seed + i``."""
    if episodes < 1:
        raise ValueError(f"episodes={episodes} must be >= 1")
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        raise ValueError(f"unknown scenarios {bad}; use names in {SCENARIOS}")
    if any(int(n) < 0 for n in people):
        raise ValueError(f"people={list(people)}: every count must be >= 0")
    built = {name: make_planner(name, (planner_overrides or {}).get(name)) for name in planners}
    env = make_env(built.values(), env_kwargs)
    results = []
    for name, planner in built.items():
        for scenario in scenarios:
            for n in people:
                latencies: list[float] = []
                per_episode, kept = [], []
                for i in range(episodes):
                    traj = run_episode(env, planner, seed + i, scenario, int(n), latencies)
                    per_episode.append(episode_metrics(traj))
                    if i < keep_trajectories:
                        kept.append(traj)
                results.append(CellResult(name, scenario, int(n), aggregate(per_episode), per_episode,
                                          latencies, kept))
    return results


TABLE_COLUMNS = (
    ("success", "succ", "{:.2f}"), ("collision", "coll", "{:.2f}"), ("timeout", "tout", "{:.2f}"),
    ("time_to_goal", "time_s", "{:.1f}"), ("path_length_ratio", "len_ratio", "{:.2f}"),
    ("min_distance_to_person", "min_gap_m", "{:.2f}"), ("intimate_space_pct", "intim_%", "{:.1f}"),
    ("personal_space_pct", "pers_%", "{:.1f}"), ("social_space_pct", "soc_%", "{:.1f}"),
    ("path_irregularity", "irreg_rad", "{:.2f}"), ("jerk", "jerk", "{:.1f}"),
    ("time_not_moving", "still_s", "{:.1f}"),
)


def format_table(results: Sequence[CellResult]) -> str:
    """A fixed-width table, one row per cell, grouped by scenario and density."""
    head = f"{'scenario':<17}{'people':>6} {'planner':<13}" + "".join(f"{c[1]:>10}" for c in TABLE_COLUMNS) \
        + f"{'p50_ms':>9}"
    lines = [head, "-" * len(head)]
    for r in sorted(results, key=lambda r: (r.scenario, r.people, r.planner)):
        cells = []
        for key, _, fmt in TABLE_COLUMNS:
            value = r.metrics.get(key, np.nan)
            cells.append(f"{fmt.format(value) if np.isfinite(value) else '-':>10}")
        p50 = np.percentile(r.latencies_ms, 50) if r.latencies_ms else np.nan
        lines.append(f"{r.scenario:<17}{r.people:>6} {r.planner:<13}" + "".join(cells) + f"{p50:>9.2f}")
    return "\n".join(lines)


def summarise(results: Sequence[CellResult]) -> dict[tuple[str, int], dict[str, float]]:
    """Per planner and density, metrics averaged over scenarios (episode-weighted)."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    keys = sorted({(r.planner, r.people) for r in results})
    for key in keys:
        episodes = [e for r in results if (r.planner, r.people) == key for e in r.episodes]
        out[key] = aggregate(episodes)
    return out
