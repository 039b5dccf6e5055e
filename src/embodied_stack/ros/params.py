"""Declaring validated parameters from one spec list.

Why: every node must declare parameters with descriptions and ranges, load them
from ``config/*.yaml``, and reject bad values *with a reason* both at start-up and
at run time (``ros2 param set``). rclpy enforces numeric ranges given in the
descriptor; choices and custom checks go through one on-set callback here, so no
node re-implements it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.parameter import Parameter


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: name, default, what it means (with units), and what is valid."""

    name: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: Sequence[Any] | None = None
    read_only: bool = False
    #: extra check returning an error string, or None when the value is fine
    check: Callable[[Any], str | None] | None = None

    def descriptor(self) -> ParameterDescriptor:
        d = ParameterDescriptor(description=self.description, read_only=self.read_only)
        if self.min is not None or self.max is not None:
            lo = self.min if self.min is not None else -1e308
            hi = self.max if self.max is not None else 1e308
            if isinstance(self.default, bool):
                pass
            elif isinstance(self.default, int):
                d.integer_range = [IntegerRange(from_value=int(max(lo, -2**62)), to_value=int(min(hi, 2**62)),
                                                step=1)]
            elif isinstance(self.default, float):
                d.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi),
                                                             step=0.0)]
        if self.choices is not None:
            d.additional_constraints = f"one of {list(self.choices)}"
        return d

    def validate(self, value: Any) -> str | None:
        """Error message for ``value``, or None. Duplicates rclpy's range check so the
        message also names the parameter and the range (rclpy's does not say which)."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.min is not None and value < self.min:
                return f"{self.name}={value} is below the minimum {self.min}"
            if self.max is not None and value > self.max:
                return f"{self.name}={value} is above the maximum {self.max}"
        if self.choices is not None and value not in self.choices:
            return f"{self.name}={value!r} is not one of {list(self.choices)}"
        if self.check is not None:
            err = self.check(value)
            if err:
                return f"{self.name}={value!r}: {err}"
        return None


class InvalidParameterError(ValueError):
    """A parameter loaded at start-up is invalid; the node refuses to start."""


class Parameters:
    """Declares ``specs`` on ``node``, validates the loaded values and keeps
    :attr:`values` current as parameters are changed at run time.

    ``on_change(name, value)`` (optional) is called after an accepted run-time change.
    """

    def __init__(self, node: Node, specs: Sequence[ParamSpec],
                 on_change: Callable[[str, Any], None] | None = None) -> None:
        self._node = node
        self._specs = {s.name: s for s in specs}
        self._on_change = on_change
        self.values: dict[str, Any] = {}
        for spec in specs:
            value = node.declare_parameter(spec.name, spec.default, spec.descriptor()).value
            err = spec.validate(value)
            if err:
                raise InvalidParameterError(f"node '{node.get_name()}': {err}")
            self.values[spec.name] = value
        node.add_on_set_parameters_callback(self._on_set)
        node.add_post_set_parameters_callback(self._post_set)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def _on_set(self, params: list[Parameter]) -> SetParametersResult:
        for p in params:
            spec = self._specs.get(p.name)
            if spec is None:
                continue
            err = spec.validate(p.value)
            if err:
                self._node.get_logger().warning(f"rejected parameter change: {err}")
                return SetParametersResult(successful=False, reason=err)
        return SetParametersResult(successful=True)

    def _post_set(self, params: list[Parameter]) -> None:
        for p in params:
            if p.name in self._specs:
                self.values[p.name] = p.value
                if self._on_change is not None:
                    self._on_change(p.name, p.value)
