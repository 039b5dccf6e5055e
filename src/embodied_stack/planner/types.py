"""The planner's data: plan steps, plan results and step outcomes.

Why strings for every argument value: a plan travels as ``embodied_stack_interfaces/PlanStep`` whose
arguments are ``diagnostic_msgs/KeyValue`` pairs, so a value that is not a string here would be formatted
differently by each backend; :func:`format_number` is the one way numbers become strings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

PLAN, CLARIFY, REFUSE = "plan", "clarify", "refuse"
STATUSES = (PLAN, CLARIFY, REFUSE)


def format_number(value: float) -> str:
    """Shortest decimal form: 5.0 -> "5", 0.5 -> "0.5" (the only number format plans use)."""
    if not math.isfinite(value):
        raise ValueError(f"number {value!r} is not finite; give a finite number of seconds")
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class PlanStep:
    """One skill call: ``skill`` by catalogue name, ``arguments`` name -> string value."""

    skill: str
    arguments: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"skill": self.skill, "arguments": dict(self.arguments)}

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.arguments.items())
        return f"{self.skill}({args})"


@dataclass
class PlanResult:
    """What a planner answers: a plan, a clarifying question, or a refusal with its reason.

    ``to_json`` is the CLI contract (exactly ``status``, ``steps``, ``message``); ``backend`` and ``notes``
    (e.g. why a fallback happened) are for logs and benchmarks only.
    """

    status: str
    steps: list[PlanStep] = field(default_factory=list)
    message: str = ""
    backend: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"plan status {self.status!r} is not one of {STATUSES}")

    @classmethod
    def clarify(cls, message: str) -> PlanResult:
        return cls(CLARIFY, [], message)

    @classmethod
    def refuse(cls, message: str) -> PlanResult:
        return cls(REFUSE, [], message)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "steps": [s.to_dict() for s in self.steps], "message": self.message}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class StepOutcome:
    """What running one step gave: success, and a reason or observation (fed back into replanning)."""

    success: bool
    message: str = ""
