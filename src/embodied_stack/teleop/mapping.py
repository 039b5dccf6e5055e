"""From operator intent (:class:`~embodied_stack.teleop.base.TeleopAction`) to robot commands.

Why separate from devices: any device can drive any robot. The commands produced are
the ones the planner and policies send (:class:`~embodied_stack.hardware.JointCommand`,
:class:`~embodied_stack.hardware.BaseVelocity`), so the drivers' safety filters apply
to teleop exactly as to policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embodied_stack.hardware import BaseVelocity, JointCommand
from embodied_stack.teleop.base import TeleopAction


@dataclass
class BaseTeleop:
    """Twist intent -> planar base velocity. ``max_linear`` m/s, ``max_angular`` rad/s."""

    max_linear: float = 0.5
    max_angular: float = 1.0

    def command(self, action: TeleopAction) -> BaseVelocity:
        if not action.enabled:
            return BaseVelocity()
        t = action.twist
        return BaseVelocity(vx=float(t[0] * self.max_linear), vy=float(t[1] * self.max_linear),
                            wz=float(t[5] * self.max_angular))


class EndEffectorTeleop:
    """Cartesian teleop of an arm: the twist moves an end-effector target, IK gives joint targets.

    The target is integrated from the twist (linear in the base frame, m/s; angular about
    base axes, rad/s) and kept within ``max_lead`` m of where the arm actually is, so a
    blocked arm does not wind up a target far away. When the IK cannot reach the new
    target within ``max_ik_error`` m the target is not moved (the arm holds instead of
    jumping). Orientation is tracked only in the directions a 5-DoF arm can follow.

    Args:
        kinematics: object with ``fk(q) -> (pos, quat_xyzw)`` and ``ik(pos, quat, q0) -> q``
            (:class:`embodied_stack.sim.kinematics.ArmKinematics`).
        max_linear: end-effector speed at full deflection (m/s).
        max_angular: rotation rate at full deflection (rad/s).
        gripper_rate: gripper opening change per second at full deflection (opening is 0..1).
    """

    def __init__(self, kinematics, max_linear: float = 0.1, max_angular: float = 0.8,
                 gripper_rate: float = 1.0, max_lead: float = 0.05, max_ik_error: float = 0.01) -> None:
        self.kin = kinematics
        self.max_linear, self.max_angular = max_linear, max_angular
        self.gripper_rate, self.max_lead, self.max_ik_error = gripper_rate, max_lead, max_ik_error
        self._target_pos: np.ndarray | None = None
        self._target_quat: np.ndarray | None = None
        self._q_cmd: np.ndarray | None = None
        self.gripper = 1.0

    def reset(self, q: np.ndarray, gripper: float | None = None) -> None:
        """Re-anchor the target at the arm's current pose (on enable, after e-stop)."""
        self._q_cmd = np.asarray(q, dtype=float).copy()
        self._target_pos, self._target_quat = self.kin.fk(self._q_cmd)
        if gripper is not None:
            self.gripper = float(gripper)

    def release(self) -> None:
        """Forget the target: the next enabled step re-anchors at the measured pose, so the
        arm never jumps to a target left over from before a release or e-stop."""
        self._target_pos = None

    def command(self, action: TeleopAction, q_measured: np.ndarray, dt: float) -> JointCommand | None:
        """Joint targets for this step, or None when the dead-man is released (send nothing:
        the arm holds its last target)."""
        if not action.enabled:
            self.release()
            return None
        q_measured = np.asarray(q_measured, dtype=float)
        if self._target_pos is None:
            self.reset(q_measured)
        pos_now, _ = self.kin.fk(q_measured)
        new_pos = self._target_pos + action.twist[:3] * self.max_linear * dt
        lead = new_pos - pos_now
        if np.linalg.norm(lead) > self.max_lead:
            new_pos = pos_now + lead * (self.max_lead / np.linalg.norm(lead))
        new_quat = _rotate(self._target_quat, action.twist[3:] * self.max_angular * dt)
        q = self.kin.ik(new_pos, new_quat, q0=self._q_cmd)
        pos_err = float(np.linalg.norm(self.kin.fk(q)[0] - new_pos))
        if pos_err <= self.max_ik_error:
            self._target_pos, self._target_quat, self._q_cmd = new_pos, new_quat, q
        self.gripper = float(np.clip(self.gripper + action.gripper * self.gripper_rate * dt, 0.0, 1.0))
        return JointCommand(positions=self._q_cmd.copy(), gripper=self.gripper)


def _rotate(quat_xyzw: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    """Apply a small rotation ``rotvec`` (rad, base frame) to an orientation (xyzw)."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.asarray(quat_xyzw, dtype=float)
    axis = rotvec / angle
    dq = np.concatenate([axis * np.sin(angle / 2), [np.cos(angle / 2)]])
    return _quat_mul(dq, quat_xyzw)


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    q = np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                  aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])
    return q / np.linalg.norm(q)
