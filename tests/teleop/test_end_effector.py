"""End-effector teleop moves the SO-arm's gripper along the commanded direction through IK."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from embodied_stack.hardware import BaseVelocity
from embodied_stack.sim import so_arm
from embodied_stack.sim.kinematics import ArmKinematics
from embodied_stack.teleop import BaseTeleop, EndEffectorTeleop, TeleopAction


@pytest.fixture(scope="module")
def kin():
    return ArmKinematics(mujoco.MjModel.from_xml_path(str(so_arm.arm_xml_path())))


def test_twist_moves_the_end_effector(kin):
    ee = EndEffectorTeleop(kin, max_linear=0.1)
    q = so_arm.HOME_QPOS.copy()
    start, _ = kin.fk(q)
    forward_up = TeleopAction(twist=np.array([1.0, 0, 0.5, 0, 0, 0]), enabled=True)
    for _ in range(10):  # 10 steps of 20 ms, the arm follows its commands exactly
        cmd = ee.command(forward_up, q, dt=0.02)
        q = cmd.positions
    moved = kin.fk(q)[0] - start
    assert moved[0] == pytest.approx(0.02, abs=0.004)
    assert moved[2] == pytest.approx(0.01, abs=0.004)
    assert abs(moved[1]) < 0.003
    assert np.all(q >= kin.lower) and np.all(q <= kin.upper)


def test_deadman_release_sends_nothing_and_reanchors(kin):
    ee = EndEffectorTeleop(kin)
    q = so_arm.HOME_QPOS.copy()
    assert ee.command(TeleopAction(twist=np.ones(6), enabled=False), q, 0.02) is None
    cmd = ee.command(TeleopAction(twist=np.zeros(6), enabled=True), q, 0.02)
    np.testing.assert_allclose(kin.fk(cmd.positions)[0], kin.fk(q)[0], atol=2e-3)


def test_gripper_rate_and_base_mapping():
    ee = EndEffectorTeleop(_FakeKin())
    ee.reset(np.zeros(5), gripper=0.5)
    cmd = ee.command(TeleopAction(gripper=-1.0, enabled=True), np.zeros(5), dt=0.1)
    assert cmd.gripper == pytest.approx(0.4)
    base = BaseTeleop(max_linear=0.5, max_angular=1.0)
    assert base.command(TeleopAction(twist=np.array([1, -1, 0, 0, 0, 0.5]), enabled=True)) == \
        BaseVelocity(0.5, -0.5, 0.5)
    assert base.command(TeleopAction(twist=np.ones(6), enabled=False)) == BaseVelocity()


class _FakeKin:
    def fk(self, q):
        return np.zeros(3), np.array([0.0, 0, 0, 1])

    def ik(self, pos, quat, q0):
        return np.zeros(5)
