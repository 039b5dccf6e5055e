"""``embodied-stack demo``: launch ``sim_tabletop`` and run one task through it."""

from __future__ import annotations

import argparse
from pathlib import Path

from embodied_stack.cli import CommandRegistry


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stack", default="sim_tabletop", help="stack to launch (default: sim_tabletop)")
    p.add_argument("--seed", type=int, default=0, help="scene seed (sim bridge) and task choice")
    p.add_argument("--language", default="en", choices=["en", "zh"], help="instruction language")
    p.add_argument("--timeout", type=float, default=30.0, help="skill timeout, s")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="where the video is written")


def _run(args: argparse.Namespace) -> int:
    from embodied_stack.demo.operator_node import run_demo

    return run_demo(args.stack, args.seed, args.language, args.timeout, args.out)


def register(registry: CommandRegistry) -> None:
    registry.add(("demo",), configure=_configure, run=_run,
                 help="run the stack in simulation end to end (sim bridge -> perception -> VLA) "
                      "and record a video")
