"""``embodied-stack eval nav``: social navigation planners over scenarios and crowd densities."""

from __future__ import annotations

import argparse
import json

from embodied_stack.cli import CommandRegistry

ALL = "all"


def _names(value: str, valid: tuple[str, ...], what: str) -> list[str]:
    names = list(valid) if value == ALL else [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown {what} {bad or value!r}; use '{ALL}' or a comma list of "
                                         f"{', '.join(valid)}")
    return names


def _planners(value: str) -> list[str]:
    from embodied_stack.navigation.planners import PLANNERS

    return _names(value, PLANNERS, "planner")


def _scenarios(value: str) -> list[str]:
    from embodied_stack.navigation.scenarios import SCENARIOS

    return _names(value, SCENARIOS, "scenario")


def _people(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",")]
    except ValueError:
        counts = [-1]
    if any(c < 0 for c in counts):
        raise argparse.ArgumentTypeError(f"--people {value!r} must be counts >= 0, e.g. 10 or 5,10,20")
    return counts


def _add_args(p: argparse.ArgumentParser) -> None:
    from embodied_stack.navigation.evaluate import EVAL_CONFIG

    p.add_argument("--planner", type=_planners, default=ALL,
                   help="social_force, orca, dwa, learned; a comma list or 'all'")
    p.add_argument("--scenario", type=_scenarios, default=ALL, help="a scenario name, a comma list, or 'all'")
    p.add_argument("--people", type=_people, default=None, help="people per scene, e.g. 10 or 5,10,20 "
                   "(default: the eval config's)")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes per cell (default: the eval config's)")
    p.add_argument("--seed", type=int, default=None, help="episode i is reset with seed+i "
                   "(default: the eval config's held-out seed)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per planner x scenario x density")
    p.add_argument("--plots", default="outputs/nav_eval", help="folder for SVG plots ('' for none)")
    p.add_argument("--visible", action="store_true", help="people see the robot (default: invisible)")
    p.add_argument("--kinematics", choices=("holonomic", "unicycle"), default=None)
    p.add_argument("--crowd-model", choices=("orca", "social_force"), default=None)
    p.add_argument("--checkpoint", default=None, help="learned planner checkpoint (overrides the YAML)")
    p.add_argument("--config", default=EVAL_CONFIG, help="evaluation protocol YAML")


def _run(args: argparse.Namespace) -> int:
    from embodied_stack.navigation.evaluate import evaluate, format_table, load_eval_config
    from embodied_stack.navigation.plots import write_plots
    from embodied_stack.navigation.scenarios import build_scenario

    planners, scenarios = args.planner, args.scenario
    protocol = load_eval_config(args.config)
    env_kwargs = dict(protocol.get("env", {}))
    if args.visible:
        env_kwargs["robot_visible"] = True
    if args.kinematics:
        env_kwargs["kinematics"] = args.kinematics
    if args.crowd_model:
        env_kwargs["crowd_model"] = args.crowd_model
    overrides = {"learned": {"checkpoint": args.checkpoint}} if args.checkpoint else None
    results = evaluate(planners, scenarios, args.people or protocol["people"],
                       args.episodes or protocol["episodes"],
                       protocol["seed"] if args.seed is None else args.seed, env_kwargs, overrides)
    if args.json:
        for r in results:
            print(json.dumps(r.as_json()))
    else:
        print(format_table(results))
    if args.plots:
        import numpy as np

        walls = {s: build_scenario(s, 0, np.random.default_rng(0)).walls for s in scenarios}
        written = write_plots(results, walls, args.plots)
        if not args.json:
            print(f"wrote {len(written)} plots to {args.plots}")
    return 0


def register(registry: CommandRegistry) -> None:
    registry.add(("eval", "nav"), configure=_add_args, run=_run,
                 help="evaluate social navigation planners over scenarios and crowd densities")
