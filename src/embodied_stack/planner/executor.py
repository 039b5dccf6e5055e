"""Running a plan step by step, feeding outcomes back, replanning a bounded number of times.

Why ROS-free with a ``run_step`` callable: the executive node gives it action clients, tests give it plain
Python functions that fail once or hang, and the rules that matter - a per-step timeout from the
catalogue, cancel at any time, replanning from the current world model after a failure with what happened
so far as feedback (Inner Monologue), giving up after ``max_replans`` with the reason - are the same code
in both. Replanned plans skip steps whose effects already hold (the cup already in hand is not picked
again; the robot already in the kitchen does not drive there again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from embodied_stack.planner.catalogue import SkillCatalogue
from embodied_stack.planner.state import BeliefState
from embodied_stack.planner.types import PLAN, PlanResult, PlanStep, StepOutcome
from embodied_stack.planner.world import WorldModel

SUCCEEDED, FAILED, CANCELLED, NOT_PLANNED = "succeeded", "failed", "cancelled", "not_planned"
_POLL_S = 0.02  # s between checks of the cancel flag while a step runs


class PlansInstructions(Protocol):
    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult: ...


@dataclass
class StepRecord:
    step: PlanStep
    outcome: StepOutcome
    duration_s: float


@dataclass
class ExecutionReport:
    """How it went: ``status`` (succeeded | failed | cancelled | not_planned) and why, every step run,
    the feedback lines given to the planner and how many replans it took."""

    status: str
    message: str
    plan: PlanResult
    records: list[StepRecord] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    replans: int = 0

    @property
    def success(self) -> bool:
        return self.status == SUCCEEDED


class PlanExecutor:
    """Args:
    planner: anything with ``plan(instruction, world, feedback)`` (a ``Planner``).
    world: the world model; updated with each successful step's effects, and by ``observe``.
    run_step: runs one step and returns its outcome (may block; may raise - that is a failure).
    catalogue: skills (timeouts, effects); the planner's own by default.
    max_replans: replans after failures before giving up; the planner config's by default.
    observe: called with ``world`` before each replan so perception can refresh it.
    cancel_step: called when a running step must be aborted (timeout or ``cancel()``).
    """

    def __init__(
        self,
        planner: PlansInstructions,
        world: WorldModel,
        run_step: Callable[[PlanStep], StepOutcome],
        catalogue: SkillCatalogue | None = None,
        max_replans: int | None = None,
        observe: Callable[[WorldModel], None] | None = None,
        cancel_step: Callable[[PlanStep], None] | None = None,
    ) -> None:
        self.planner, self.world, self.run_step = planner, world, run_step
        self.catalogue = catalogue or getattr(planner, "catalogue", None)
        if self.catalogue is None:
            raise ValueError("PlanExecutor needs a catalogue: pass catalogue= or a planner that has one")
        if max_replans is None:
            config = getattr(planner, "config", None)
            if config is None:
                raise ValueError("PlanExecutor needs max_replans: pass it or a planner with a config")
            max_replans = config.max_replans
        if max_replans < 0:
            raise ValueError(f"max_replans {max_replans} must be >= 0")
        self.max_replans = max_replans
        self.observe, self.cancel_step = observe, cancel_step
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop after (or abort) the current step; ``execute`` returns a cancelled report."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def execute(self, instruction: str, plan: PlanResult | None = None) -> ExecutionReport:
        plan = plan if plan is not None else self.planner.plan(instruction, self.world)
        report = ExecutionReport(NOT_PLANNED, plan.message, plan)
        if plan.status != PLAN:
            return report
        steps = list(plan.steps)
        while True:
            failed = self._run_steps(steps, report)
            if self.cancelled:
                report.status, report.message = (
                    CANCELLED,
                    "cancelled" + (f" during {failed}" if failed else ""),
                )
                return report
            if failed is None:
                report.status, report.message = SUCCEEDED, f"done: {len(report.records)} step(s) run"
                return report
            last = report.records[-1].outcome.message
            if report.replans >= self.max_replans:
                report.status = FAILED
                report.message = f"gave up after {report.replans} replan(s): {failed} failed" + (
                    f" ({last})" if last else ""
                )
                return report
            report.replans += 1
            if self.observe is not None:
                self.observe(self.world)
            plan = self.planner.plan(instruction, self.world, list(report.feedback))
            report.plan = plan
            report.feedback.append(f"replan {report.replans}: {plan.status} {plan.message}")
            if plan.status != PLAN:
                report.status = FAILED
                report.message = f"{failed} failed ({last}); replanning gave no plan: {plan.message}"
                return report
            steps = self._unsatisfied(plan.steps)

    # --- internals -----------------------------------------------------------------------
    def _run_steps(self, steps: Sequence[PlanStep], report: ExecutionReport) -> PlanStep | None:
        """Run steps in order; the step that failed (or was running at cancel), or None when all succeeded."""
        for step in steps:
            if self.cancelled:
                return None
            start = time.monotonic()
            outcome = self._run_one(step)
            report.records.append(StepRecord(step, outcome, time.monotonic() - start))
            word = "done" if outcome.success else "failed"
            report.feedback.append(f"{step}: {word}" + (f": {outcome.message}" if outcome.message else ""))
            if not outcome.success:
                return step
            self._apply(step)
        return None

    def _run_one(self, step: PlanStep) -> StepOutcome:
        """``run_step`` in a worker thread under the skill's timeout, abortable by ``cancel``."""
        timeout = self.catalogue[step.skill].timeout_for(step)
        box: dict[str, StepOutcome] = {}
        done = threading.Event()

        def work() -> None:
            try:
                result = self.run_step(step)
                box["outcome"] = (
                    result
                    if isinstance(result, StepOutcome)
                    else StepOutcome(False, f"run_step returned {type(result).__name__}, not a StepOutcome")
                )
            except Exception as exc:  # the step failed; the executor decides what next
                box["outcome"] = StepOutcome(False, f"{type(exc).__name__}: {exc}")
            finally:
                done.set()

        threading.Thread(target=work, name=f"step-{step.skill}", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not done.wait(_POLL_S):
            if self.cancelled or time.monotonic() >= deadline:
                if self.cancel_step is not None:
                    self.cancel_step(step)
                why = "cancelled" if self.cancelled else f"timed out after {timeout:g} s"
                return StepOutcome(False, why)
        return box["outcome"]

    def _apply(self, step: PlanStep) -> None:
        """A succeeded step's effects into the world model (gripper, robot pose, objects seen)."""
        state = BeliefState.from_world(self.world)
        state.apply(self.catalogue[step.skill], step)
        self.world.holding, self.world.robot_at = state.holding, state.robot_at
        for oid in state.seen:
            obj = self.world.objects.get(oid)
            if obj is not None and not obj.visible:
                obj.visible, obj.last_seen = True, self.world.now
        for oid, target in state.object_at.items():
            obj = self.world.objects.get(oid)
            if obj is not None:  # moved: where exactly is for perception to say; the place is known
                obj.position = None
                if target in self.world.places:
                    obj.place = target
                elif target in self.world.objects:
                    obj.place = self.world.objects[target].place

    def _unsatisfied(self, steps: Sequence[PlanStep]) -> list[PlanStep]:
        """Steps of a replanned plan minus those whose effects already hold when they would run."""
        state = BeliefState.from_world(self.world)
        out = []
        for step in steps:
            skill = self.catalogue[step.skill]
            if state.satisfied(skill, step, self.world):
                continue
            out.append(step)
            state.apply(skill, step)
        return out
