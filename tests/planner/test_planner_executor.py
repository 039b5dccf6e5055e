"""The executor with real planning: failures fed back, bounded replanning, timeouts, cancel."""

from __future__ import annotations

import threading

import pytest

from embodied_stack.planner.executor import CANCELLED, FAILED, NOT_PLANNED, SUCCEEDED, PlanExecutor
from embodied_stack.planner.types import PlanStep, StepOutcome


class Runner:
    """A step runner that records calls and fails the listed steps a number of times."""

    def __init__(self, fail: dict[str, int] | None = None, message: str = "slipped") -> None:
        self.fail = dict(fail or {})
        self.message = message
        self.calls: list[PlanStep] = []

    def __call__(self, step: PlanStep) -> StepOutcome:
        self.calls.append(step)
        key = str(step)
        if self.fail.get(key, 0) > 0:
            self.fail[key] -= 1
            return StepOutcome(False, self.message)
        return StepOutcome(True)


def test_plan_runs_and_updates_the_world(planner, home):
    runner = Runner()
    report = PlanExecutor(planner, home, runner).execute("bring me the blue cup")
    assert report.status == SUCCEEDED and report.replans == 0
    assert [str(s) for s in runner.calls] == [
        "pick(object=obj_2)",
        "navigate_to(target=person_1)",
        "handover(object=obj_2, person=person_1)",
    ]
    assert home.holding is None and home.robot_at == "person_1"


def test_failed_place_is_replanned_without_picking_again(planner, home):
    runner = Runner({"place(object=obj_3, target=obj_5)": 1})
    executor = PlanExecutor(planner, home, runner)
    report = executor.execute("put the green ball in the bowl")
    assert report.status == SUCCEEDED and report.replans == 1
    assert [str(s) for s in runner.calls] == [
        "pick(object=obj_3)",
        "place(object=obj_3, target=obj_5)",
        "place(object=obj_3, target=obj_5)",
    ]
    assert "place(object=obj_3, target=obj_5): failed: slipped" in report.feedback


def test_replan_after_a_lost_object_looks_for_it(planner, home):
    """The observer says the ball vanished; the new plan searches for it where it was last seen."""
    runner = Runner({"pick(object=obj_3)": 1}, message="not found")

    def observe(world):
        world.objects["obj_3"].visible = False

    report = PlanExecutor(planner, home, runner, observe=observe).execute("pick up the green ball")
    assert report.status == SUCCEEDED
    assert [str(s) for s in runner.calls] == [
        "pick(object=obj_3)",
        "look_for(object=obj_3)",
        "pick(object=obj_3)",
    ]


def test_gives_up_after_max_replans_and_says_why(planner, home):
    runner = Runner({"navigate_to(target=kitchen)": 99}, message="path blocked")
    report = PlanExecutor(planner, home, runner, max_replans=2).execute("go to the kitchen")
    assert report.status == FAILED and report.replans == 2 and len(runner.calls) == 3
    assert "gave up after 2 replan(s)" in report.message and "path blocked" in report.message


def test_a_hung_step_times_out(planner, home, catalogue):
    release = threading.Event()
    cancelled: list[PlanStep] = []

    def hang(step: PlanStep) -> StepOutcome:
        release.wait(30.0)
        return StepOutcome(True)

    fast = catalogue.with_skill("navigate_to", timeout_s=0.2)
    executor = PlanExecutor(planner, home, hang, catalogue=fast, max_replans=0, cancel_step=cancelled.append)
    report = executor.execute("go to the kitchen")
    release.set()
    assert report.status == FAILED and "timed out after 0.2 s" in report.message
    assert cancelled == [PlanStep("navigate_to", {"target": "kitchen"})]


def test_cancel_stops_a_running_plan(planner, home):
    started = threading.Event()
    release = threading.Event()

    def slow(step: PlanStep) -> StepOutcome:
        started.set()
        release.wait(30.0)
        return StepOutcome(True)

    executor = PlanExecutor(planner, home, slow)
    box = {}
    worker = threading.Thread(
        target=lambda: box.update(report=executor.execute("go to the kitchen then wait 1 s"))
    )
    worker.start()
    assert started.wait(10.0)
    executor.cancel()
    worker.join(10.0)
    release.set()
    assert not worker.is_alive() and box["report"].status == CANCELLED
    assert len(box["report"].records) == 1


def test_runner_exceptions_are_failures(planner, home):
    def broken(step: PlanStep) -> StepOutcome:
        raise ConnectionError("action server gone")

    report = PlanExecutor(planner, home, broken, max_replans=0).execute("stop")
    assert report.status == FAILED and "ConnectionError: action server gone" in report.message


def test_nothing_runs_without_a_plan(planner, home):
    runner = Runner()
    report = PlanExecutor(planner, home, runner).execute("throw the knife at the person")
    assert report.status == NOT_PLANNED and not runner.calls and "won't" in report.message


def test_replanning_gets_the_feedback(planner, home, catalogue):
    seen: list[list[str]] = []

    class Recording:
        config = planner.config

        def plan(self, instruction, world, feedback=()):
            seen.append(list(feedback))
            return planner.plan(instruction, world, feedback)

    runner = Runner({"navigate_to(target=bedroom)": 1}, message="door closed")
    report = PlanExecutor(Recording(), home, runner, catalogue=catalogue).execute("go to the bedroom")
    assert report.status == SUCCEEDED
    assert seen == [[], ["navigate_to(target=bedroom): failed: door closed"]]


def test_bad_max_replans_is_rejected(planner, home):
    with pytest.raises(ValueError, match="max_replans -1 must be >= 0"):
        PlanExecutor(planner, home, Runner(), max_replans=-1)
