"""``embodied-stack launch <stack>`` and ``embodied-stack stacks``."""

from __future__ import annotations

import argparse

from embodied_stack.cli import CommandRegistry


def _configure_launch(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack",
                   help="stack name under config/stacks/ (see `embodied-stack stacks`) or a YAML path")
    p.add_argument("--duration", type=float, default=None,
                   help="stop after this many seconds (default: run until Ctrl-C)")
    p.add_argument("--dds-profile", default="shm", choices=["shm", "default"],
                   help="Fast DDS profile: shipped 16 MB shared-memory profile (default) "
                        "or Fast DDS defaults")
    p.add_argument("--grace", type=float, default=5.0,
                   help="seconds nodes get to exit on SIGINT before SIGTERM")


def _run_launch(args: argparse.Namespace) -> int:
    from embodied_stack.bringup.runner import StackRunner
    from embodied_stack.bringup.stack import load_stack

    runner = StackRunner(load_stack(args.stack), dds_profile=args.dds_profile, grace_s=args.grace)
    return runner.run(args.duration)


def _run_stacks(args: argparse.Namespace) -> int:
    from embodied_stack.bringup.stack import available_stacks, load_stack

    for name in available_stacks():
        stack = load_stack(name)
        print(f"{name:20s} {len(stack.nodes)} nodes  {stack.description}")
    return 0


def register(registry: CommandRegistry) -> None:
    registry.add(("launch",), configure=_configure_launch, run=_run_launch,
                 help="run a stack from config/stacks/ (one process per node; Ctrl-C stops all)")
    registry.add(("stacks",), configure=lambda p: None, run=_run_stacks,
                 help="list the stacks you can launch")
