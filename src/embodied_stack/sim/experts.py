"""Scripted experts for the tabletop tasks: they generate demonstrations for the VLA.

Each expert reads privileged simulator state (object poses, the goal) from the env
it is given and returns exactly the action the env accepts (joint-target deltas
scaled to [-1, 1] and an absolute gripper command), so recorded demonstrations are
replayable and a learned policy imitates the same action space. Motions are
phase machines over Cartesian waypoints, turned into joint targets by
:class:`~embodied_stack.sim.kinematics.ArmKinematics` with a top-down gripper.

Usage::

    env = gym.make("embodied_stack/TabletopPickPlace-v0")
    expert = make_expert(env)
    obs, info = env.reset(seed=0); expert.reset()
    while True:
        obs, r, term, trunc, info = env.step(expert.act())
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from embodied_stack.sim import so_arm
from embodied_stack.sim.envs.tabletop_base import TabletopEnv
from embodied_stack.sim.envs.tabletop_pick_place import TabletopPickPlaceEnv
from embodied_stack.sim.envs.tabletop_push import TabletopPushEnv
from embodied_stack.sim.envs.tabletop_reach import TabletopReachEnv
from embodied_stack.sim.kinematics import ArmKinematics, top_down_quat

OPEN, CLOSED = 1.0, -1.0
SAFE_Z = 0.09  # m: ee height for moves above the objects (a held 4.4 cm cylinder clears the 4 cm bowl rim)


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


class TabletopExpert:
    """Base: Cartesian waypoint -> IK -> action. Subclasses write :meth:`_plan`."""

    def __init__(self, env: gym.Env) -> None:
        unwrapped = env.unwrapped
        if not isinstance(unwrapped, TabletopEnv):
            raise TypeError(f"{type(self).__name__} drives tabletop envs, got {type(unwrapped).__name__}")
        self.env: TabletopEnv = unwrapped
        self.world = unwrapped.world
        self.kin = ArmKinematics(self.world.model)
        self.reset()

    def reset(self) -> None:
        """Call after every ``env.reset``."""
        self.phase = "start"
        self.phase_steps = 0

    def act(self, observation: object = None) -> np.ndarray:
        """The next action (float32, shape (6,)); ``observation`` is unused (privileged expert)."""
        self.phase_steps += 1
        target, yaw, gripper, speed = self._plan()
        return self._move(target, yaw, gripper, speed)

    def _plan(self) -> tuple[np.ndarray, float, float, float]:
        """(ee target m, gripper yaw rad, gripper command -1..1, max ee step m)."""
        raise NotImplementedError

    def _goto(self, phase: str) -> None:
        self.phase, self.phase_steps = phase, 0

    # --- helpers --------------------------------------------------------------------------
    @staticmethod
    def natural_yaw(xy: np.ndarray) -> float:
        """Jaw yaw reached with the wrist roll at 0 above ``xy`` (the arm's own heading + pi)."""
        return _wrap(float(np.arctan2(xy[1], xy[0])) + np.pi)

    def grasp_yaw(self, name: str) -> float:
        """Jaw yaw that grips a cube across two faces (or any, for round objects), chosen
        closest to the natural yaw so the wrist roll stays small."""
        pos = self.world.object_position(name)
        natural = self.natural_yaw(pos[:2])
        if self.world.objects[name].shape != "cube":
            return natural
        base = self.world.object_yaw(name)
        options = [base + k * np.pi / 2 for k in range(4)]
        return min(options, key=lambda y: abs(_wrap(y - natural)))

    def ee_error(self, target: np.ndarray) -> np.ndarray:
        return target - self.world.ee_position()

    def _move(self, target: np.ndarray, yaw: float, gripper: float, speed: float) -> np.ndarray:
        ee = self.world.ee_position()
        delta = target - ee
        dist = float(np.linalg.norm(delta))
        waypoint = target if dist <= speed else ee + delta * (speed / dist)
        q_now = self.env.arm.joint_targets
        q = self.kin.ik(waypoint, top_down_quat(yaw), q0=q_now, max_iters=25)
        dq = (q - q_now) / self.env.max_joint_delta
        return np.append(np.clip(dq, -1.0, 1.0), gripper).astype(np.float32)


class ReachExpert(TabletopExpert):
    """Straight to the reach point, jaws open."""

    def _plan(self) -> tuple[np.ndarray, float, float, float]:
        goal = self.env.goal
        return goal, self.natural_yaw(goal[:2]), OPEN, 0.025


class PushExpert(TabletopExpert):
    """Closed jaws as a paddle: go behind the object (seen from the goal), lower, then
    keep stepping just behind it toward the goal, re-approaching if it slips sideways."""

    push_z = 0.022  # m: ee height while pushing (fingertips ~4 mm above the table)
    standoff = 0.014  # m between the object's edge and the ee centre behind it (finger half-width 11 mm)

    def _geometry(self) -> tuple[np.ndarray, np.ndarray, float]:
        obj = self.world.object_position(self.env.target_object)[:2]
        to_goal = self.env.goal[:2] - obj
        u = to_goal / max(float(np.linalg.norm(to_goal)), 1e-6)
        radius = max(self.world.objects[self.env.target_object].size[:2]) / 2
        return obj, u, radius

    def _paddle_yaw(self, u: np.ndarray, at: np.ndarray) -> float:
        yaw = float(np.arctan2(u[1], u[0])) + np.pi / 2  # jaw axis across the push direction
        natural = self.natural_yaw(at)
        return min((yaw, yaw + np.pi), key=lambda y: abs(_wrap(y - natural)))

    def _plan(self) -> tuple[np.ndarray, float, float, float]:
        obj, u, radius = self._geometry()
        behind = obj - u * (radius + self.standoff + 0.012)
        if self.phase == "start":
            self._goto("above")
        if self.phase == "above":
            target = np.array([behind[0], behind[1], 0.06])
            if np.linalg.norm(self.ee_error(target)[:2]) < 0.008:
                self._goto("lower")
            self._yaw = self._paddle_yaw(u, behind)
            return target, self._yaw, CLOSED, 0.025
        if self.phase == "lower":
            target = np.array([behind[0], behind[1], self.push_z])
            if abs(self.ee_error(target)[2]) < 0.006:
                self._goto("push")
            return target, self._yaw, CLOSED, 0.02
        # push: keep the ee just behind the object on the object->goal line and nudge forward
        ee = self.world.ee_position()[:2]
        rel = obj - ee
        lateral = abs(float(rel[0] * u[1] - rel[1] * u[0]))
        if lateral > 0.012 or float(np.dot(rel, u)) < 0.0:
            self._goto("above")  # slipped off the paddle: lift and come again from behind
            target = np.array([ee[0], ee[1], 0.06])
            return target, self._yaw, CLOSED, 0.02
        remaining = float(np.linalg.norm(self.env.goal[:2] - obj))
        contact = obj - u * (radius + self.standoff - 0.004)
        target_xy = contact + u * min(0.012, remaining)
        return np.array([target_xy[0], target_xy[1], self.push_z]), self._yaw, CLOSED, 0.012


class PickPlaceExpert(TabletopExpert):
    """Above the object -> down -> close -> lift -> over the container -> lower -> open."""

    def _plan(self) -> tuple[np.ndarray, float, float, float]:
        env = self.env
        assert isinstance(env, TabletopPickPlaceEnv)
        name = env.target_object
        obj = self.world.object_position(name)
        container = self.world.object_position(env.container)
        if self.phase == "start":
            self._yaw = self.grasp_yaw(name)
            self._goto("above")
        if self.phase == "above":
            self._yaw = self.grasp_yaw(name)
            target = np.array([obj[0], obj[1], obj[2] + 0.07])
            err = self.ee_error(target)
            if np.linalg.norm(err[:2]) < 0.006 and abs(err[2]) < 0.02:
                self._goto("descend")
            return target, self._yaw, OPEN, 0.025
        if self.phase == "descend":
            target = np.array([obj[0], obj[1], max(obj[2], 0.022)])
            if abs(self.ee_error(target)[2]) < 0.005 or self.phase_steps > 30:
                self._goto("close")
            return target, self._yaw, OPEN, 0.015
        if self.phase == "close":
            target = self.world.ee_position()
            if self.phase_steps >= 8:
                self._lift_xy = target[:2].copy()
                self._goto("lift")
            return target, self._yaw, CLOSED, 0.01
        held = self.world.in_gripper_contact(name)
        if self.phase in ("lift", "carry", "lower") and not held:
            self._goto("above")  # dropped it: start over
            return self.world.ee_position() + np.array([0, 0, 0.03]), self._yaw, OPEN, 0.02
        carry_yaw = _wrap(self._yaw + self.natural_yaw(container[:2]) - self.natural_yaw(self._lift_xy))
        if self.phase == "lift":
            target = np.array([self._lift_xy[0], self._lift_xy[1], SAFE_Z])
            if self.world.ee_position()[2] > SAFE_Z - 0.015:
                self._goto("carry")
            return target, self._yaw, CLOSED, 0.02
        if self.phase == "carry":
            target = np.array([container[0], container[1], SAFE_Z])
            if np.linalg.norm(self.ee_error(target)[:2]) < 0.012:
                self._goto("lower")
            return target, carry_yaw, CLOSED, 0.02
        if self.phase == "lower":
            rim = so_arm.TABLETOP_CONTAINERS[env.container][2]
            target = np.array([container[0], container[1], rim + 0.02])
            if abs(self.ee_error(target)[2]) < 0.01 or self.phase_steps > 25:
                self._goto("release")
            return target, carry_yaw, CLOSED, 0.015
        # release, then back off upward so the jaws stop touching the object
        target = np.array([container[0], container[1], SAFE_Z if self.phase_steps > 6 else
                           self.world.ee_position()[2]])
        return target, carry_yaw, OPEN, 0.015


EXPERTS: dict[type[TabletopEnv], type[TabletopExpert]] = {
    TabletopReachEnv: ReachExpert,
    TabletopPushEnv: PushExpert,
    TabletopPickPlaceEnv: PickPlaceExpert,
}


def make_expert(env: gym.Env) -> TabletopExpert:
    """The scripted expert for ``env`` (a tabletop env, wrapped or not)."""
    for env_cls, expert_cls in EXPERTS.items():
        if isinstance(env.unwrapped, env_cls):
            return expert_cls(env)
    raise ValueError(f"no scripted expert for {type(env.unwrapped).__name__}; "
                     f"experts exist for {[c.__name__ for c in EXPERTS]}")
