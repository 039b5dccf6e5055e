"""`embodied-stack` commands of the motors capability."""

from __future__ import annotations

from embodied_stack.cli import CommandRegistry


def register(registry: CommandRegistry) -> None:
    """No commands yet."""
