"""The ``embodied-stack`` command: one entry point, subcommands contributed by capabilities.

Why a registry: each capability (bringup, rl, vla, datasets, ...) owns its commands
in its own ``cli.py`` with a ``register(registry)`` function, so adding a command
never means editing a 500-line central parser, and a heavy import (torch, mujoco)
happens only when that command runs.

A capability's ``cli.py``::

    def register(registry: CommandRegistry) -> None:
        registry.add(("train", "rl"), configure=_add_args, run=_run, help="train an SB3 agent")

``configure(parser)`` adds arguments; ``run(args) -> int`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Modules with a ``register(registry)`` function, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "embodied_stack.bringup.cli",
    "embodied_stack.doctor",
    "embodied_stack.demo.cli",
    "embodied_stack.rl.cli",
    "embodied_stack.vla.cli",
    "embodied_stack.datasets.cli",
    "embodied_stack.teleop.cli",
    "embodied_stack.motors.cli",
    "embodied_stack.planner.cli",
    "embodied_stack.navigation.cli",
)


@dataclass
class _Command:
    path: tuple[str, ...]
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    help: str


class CommandRegistry:
    def __init__(self) -> None:
        self.commands: list[_Command] = []

    def add(self, path: Sequence[str], *, configure: Callable[[argparse.ArgumentParser], None],
            run: Callable[[argparse.Namespace], int], help: str) -> None:
        self.commands.append(_Command(tuple(path), configure, run, help))


def build_parser(registry: CommandRegistry) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="embodied-stack",
        description="embodied_stack: run the robot stack, train and evaluate policies, record data.",
    )
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {
        (): parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    }
    parsers: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for cmd in registry.commands:
        for depth in range(1, len(cmd.path)):
            prefix = cmd.path[:depth]
            if prefix not in groups:
                p = groups[prefix[:-1]].add_parser(prefix[-1], help=f"{prefix[-1]} commands")
                parsers[prefix] = p
                groups[prefix] = p.add_subparsers(dest="_".join(prefix), metavar="SUBCOMMAND",
                                                  required=True)
        # help strings are %-formatted by argparse (so "%%" means "%"), descriptions are not
        sub = groups[cmd.path[:-1]].add_parser(cmd.path[-1], help=cmd.help,
                                               description=cmd.help.replace("%%", "%"))
        cmd.configure(sub)
        sub.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    registry = CommandRegistry()
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(registry)
    args = build_parser(registry).parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
