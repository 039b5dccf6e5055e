"""ROS-free pieces of the sim bridge: trajectory playback and real-time pacing."""

import numpy as np
import pytest

from embodied_stack.hardware import CommandRejected
from embodied_stack.hardware.trajectory import TrajectoryFollower, TrajectoryPoint
from embodied_stack.sim_bridge.pacer import RealTimePacer


def test_follower_interpolates_from_current_and_holds_last():
    f = TrajectoryFollower(["a", "b"])
    f.set([TrajectoryPoint(11.0, np.array([1.0, 2.0]), 1.0),
           TrajectoryPoint(12.0, np.array([2.0, 2.0]), 0.0)],
          now=10.0, current=np.zeros(2), current_gripper=0.0)
    assert np.allclose(f.sample(10.5).positions, [0.5, 1.0]) and f.sample(10.5).gripper == 0.5
    assert np.allclose(f.sample(11.5).positions, [1.5, 2.0])
    assert np.allclose(f.sample(99.0).positions, [2.0, 2.0]) and f.sample(99.0).gripper == 0.0


def test_follower_orders_joints_by_name_and_reads_gripper():
    f = TrajectoryFollower(["a", "b"])
    pos, grip = f.order(["gripper", "b", "a"], [0.3, 2.0, 1.0])
    assert np.allclose(pos, [1.0, 2.0]) and grip == 0.3


@pytest.mark.parametrize("names,values,reason", [
    (["a"], [1.0], "missing"), (["a", "b", "c"], [1, 2, 3], "unknown"),
    (["a", "b"], [1.0], "joint names but"),
    (["a", "b"], [np.nan, 1.0], "NaN")])
def test_follower_rejects_bad_points(names, values, reason):
    with pytest.raises(CommandRejected, match=reason):
        TrajectoryFollower(["a", "b"]).order(names, values)


def test_follower_rejects_stale_and_unordered_trajectories_and_keeps_the_old_one():
    f = TrajectoryFollower(["a"], stale_after_s=0.5)
    f.set([TrajectoryPoint(1.0, np.array([1.0]))], now=0.0, current=np.zeros(1), current_gripper=None)
    with pytest.raises(CommandRejected, match="stale"):
        f.set([TrajectoryPoint(5.0, np.array([3.0]))], now=6.0, current=np.zeros(1), current_gripper=None)
    with pytest.raises(CommandRejected, match="increase"):
        f.set([TrajectoryPoint(7.0, np.array([3.0])), TrajectoryPoint(7.0, np.array([3.0]))], now=6.0,
              current=np.zeros(1), current_gripper=None)
    assert np.allclose(f.sample(2.0).positions, [1.0])


def test_pacer_sleeps_to_real_time_and_counts_overruns():
    t = [0.0]
    slept = []

    def sleep(d):
        slept.append(d)
        t[0] += d

    p = RealTimePacer(0.1, 1.0, clock=lambda: t[0], sleep=sleep)
    t[0] += 0.02  # a fast step
    p.wait()
    assert slept == [pytest.approx(0.08)]
    t[0] += 0.5  # a very slow step: overrun, no catch-up burst
    p.wait()
    assert p.overruns == 1
    t[0] += 0.01
    p.wait()
    assert slept[-1] == pytest.approx(0.09)
    assert RealTimePacer(0.1, 0.0, clock=lambda: 0.0, sleep=sleep).wait() is None
