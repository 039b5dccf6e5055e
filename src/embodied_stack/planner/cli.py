"""`embodied-stack plan`: one instruction in, one plan (or question, or refusal) out.

``embodied-stack plan [--scene FILE] [--backend NAME] --json "<instruction>"`` prints exactly one JSON
object ``{"status": "plan" | "clarify" | "refuse", "steps": [{"skill": ..., "arguments": {...}}],
"message": ...}`` on stdout - the contract tools and tests outside the node use. Everything else a backend
prints (model loading, warnings, the reason for a fallback) goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from embodied_stack.cli import CommandRegistry


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instruction", help="what to do, in English, Chinese or both (quote it)")
    parser.add_argument(
        "--scene",
        default=None,
        help="YAML with objects ({id, color, shape, name?}), places (names) and people (ids); "
        "default: the places of config/places.yaml, no objects, nobody",
    )
    parser.add_argument(
        "--backend",
        default=None,
        choices=("embedded", "http", "transformers"),
        help="planner backend (default: config/planner.yaml)",
    )
    parser.add_argument("--config", default="config/planner.yaml", help="planner config YAML")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print exactly one JSON object {status, steps, message} and nothing else on stdout",
    )


def _run(args: argparse.Namespace) -> int:
    from embodied_stack.config import ConfigError

    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # libraries that print must not break the JSON contract
        try:
            result = _plan(args)
        except (ConfigError, ValueError, OSError) as exc:
            print(f"embodied-stack plan: {exc}", file=sys.stderr)
            return 2
    if args.json:
        out.write(result.to_json() + "\n")
    else:
        out.write(f"{result.status}: {result.message}\n")
        for i, step in enumerate(result.steps, 1):
            out.write(f"  {i}. {step}\n")
        for note in result.notes:
            out.write(f"  ({note})\n")
    out.flush()
    return 0


def _plan(args: argparse.Namespace):
    from embodied_stack.planner.config import load_planner_config
    from embodied_stack.planner.facade import Planner
    from embodied_stack.planner.world import WorldModel, load_scene

    planner = Planner(load_planner_config(args.config), backend=args.backend)
    if planner.backend is not planner.embedded:
        planner.warm_up()  # the deadline is for answering, not for loading a model
    # without a scene: the map's places, no objects, nobody
    world = load_scene(args.scene, planner.places) if args.scene else WorldModel(places=dict(planner.places))
    try:
        return planner.plan(args.instruction, world)
    finally:
        planner.close()


def register(registry: CommandRegistry) -> None:
    registry.add(
        ("plan",),
        configure=_configure,
        run=_run,
        help="plan an instruction into skills (prints one JSON object with --json)",
    )
