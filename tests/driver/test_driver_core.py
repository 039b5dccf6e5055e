"""DriverCore, ROS-free, on the simulated SO-arm (real MuJoCo): the ordering of holds and commands.

The loop takes the pending command and any hold request together. A hold is requested at
activation, reset and deactivation (dropping older commands under the lock), so a command
still pending when the cycle runs arrived *after* the hold and must be obeyed - dropping it
was the node tests' "first trajectory accepted but the arm never moved" on loaded runners,
where the first command landed between activation and the loop's next cycle.
"""

from __future__ import annotations

import numpy as np

from embodied_stack.driver.core import DriverConfig, DriverCore, TrajectoryCommand
from embodied_stack.sim import so_arm
from embodied_stack.sim.tabletop import TabletopWorld


class Clock:
    """The core's clocks, advanced by the test: cycles run at exactly the times it chooses."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _core() -> tuple[TabletopWorld, DriverCore, Clock]:
    world = TabletopWorld()
    clock = Clock()
    core = DriverCore(world.arm, None, DriverConfig(), clock=clock, monotonic=clock)
    core.connect()
    return world, core, clock


def _run(world: TabletopWorld, core: DriverCore, clock: Clock, seconds: float) -> None:
    for _ in range(int(round(seconds / world.control_dt))):
        core.cycle()
        world.step()
        clock.t += world.control_dt


def test_a_trajectory_sent_right_after_activation_is_followed():
    world, core, clock = _core()
    home = world.arm.read_state().joint_positions.copy()
    target = home + np.array([0.3, 0, 0, 0, 0])
    core.activate()
    # before the loop has run once since activation: the start-up hold and this command are both pending
    assert core.submit_trajectory(TrajectoryCommand(so_arm.JOINT_NAMES, [(0.5, target)], start=clock()))
    _run(world, core, clock, 1.5)
    q = world.arm.read_state().joint_positions
    assert abs(q[0] - target[0]) < 0.02, f"the first trajectory after activation was dropped: {q} vs {target}"


def test_a_trajectory_sent_before_a_hold_is_dropped():
    world, core, clock = _core()
    home = world.arm.read_state().joint_positions.copy()
    core.activate()
    _run(world, core, clock, 0.1)
    assert core.submit_trajectory(TrajectoryCommand(so_arm.JOINT_NAMES, [(0.5, home + [0.3, 0, 0, 0, 0])],
                                                    start=clock()))
    core.request_hold()  # e.g. the simulated world was reset: what came before no longer applies
    _run(world, core, clock, 1.0)
    q = world.arm.read_state().joint_positions
    assert np.allclose(q, home, atol=0.02), f"a trajectory from before the hold moved the arm: {q}"
