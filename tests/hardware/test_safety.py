"""Command safety: limits, max step, NaN rejection, watchdog."""

import numpy as np
import pytest

from embodied_stack.hardware import (
    BaseLimits,
    BaseVelocity,
    CommandRejected,
    CommandWatchdog,
    JointCommand,
    JointLimits,
)

LIMITS = JointLimits(names=["a", "b"], lower=np.array([-1.0, 0.0]), upper=np.array([1.0, 2.0]), max_step=0.1)


def test_joint_command_is_clamped_to_limits_and_max_step():
    sent = LIMITS.filter(JointCommand(np.array([5.0, -5.0]), gripper=3.0), current=np.array([0.95, 0.5]))
    assert np.allclose(sent.positions, [1.0, 0.4])
    assert sent.gripper == 1.0


@pytest.mark.parametrize("positions,gripper,reason", [
    ([np.nan, 0.0], None, "NaN"), ([0.0], None, "has 1 values"), ([0.0, 0.0], float("inf"), "gripper")])
def test_invalid_joint_commands_are_rejected(positions, gripper, reason):
    with pytest.raises(CommandRejected, match=reason):
        LIMITS.filter(JointCommand(np.array(positions), gripper), current=np.zeros(2))


def test_base_velocity_is_clamped_and_nan_rejected():
    lim = BaseLimits(max_vx=0.5, max_vy=0.2, max_wz=1.0)
    assert lim.filter(BaseVelocity(2.0, -1.0, 0.5)) == BaseVelocity(0.5, -0.2, 0.5)
    with pytest.raises(CommandRejected):
        lim.filter(BaseVelocity(float("nan"), 0, 0))


def test_watchdog_trips_once_after_timeout():
    t = [0.0]
    stops = []
    wd = CommandWatchdog(0.2, lambda: stops.append(t[0]), clock=lambda: t[0])
    assert not wd.check()  # never fed: nothing to stop
    wd.feed()
    t[0] = 0.1
    assert wd.check()
    t[0] = 0.35
    assert not wd.check() and not wd.check()
    assert stops == [0.35] and wd.trips == 1
    wd.feed()
    assert wd.check()
