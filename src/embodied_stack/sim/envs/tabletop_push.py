"""``embodied_stack/Push-v0``: push a named object onto a target marker."""

from __future__ import annotations

import numpy as np

from embodied_stack.sim.envs.tabletop_base import TabletopEnv
from embodied_stack.sim.instructions import Instruction, sample_instruction

PUSHABLE = ("cube", "cylinder")  # a ball rolls on past the marker: not a fair push target
REACH_RADIUS = (0.12, 0.235)  # m from the arm base where the gripper reaches the table pointing down


class TabletopPushEnv(TabletopEnv):
    """Push the named object onto the flat target marker on the table
    ("push the red cube to the target" / "把红色方块推到目标位置").

    ## Description
    Same scene as Reach plus a visual-only disc (radius 3 cm) on the table, placed
    ``goal_distance`` from a cube or cylinder so that no other object lies on the
    straight push path. The gripper must slide the object, not carry it (carrying
    also counts, but experts push).

    Action and observation spaces: see :class:`TabletopEnv` (``"goal"``: ee, object,
    marker centre).

    ## Rewards (dense; ``reward_*`` in ``info``)
    - ``reward_reach``: ``-reach_weight * |ee - object|`` (m): approach the object
    - ``reward_push``: ``-push_weight * |object_xy - goal_xy|`` (m)
    - ``reward_success``: ``success_bonus`` when on target
    - ``reward_ctrl``: ``-ctrl_cost_weight * |a_joints|^2``

    ## Success
    Object centre within ``success_threshold`` (m, horizontal) of the marker centre.

    ## Episode End
    Terminates on success or when the object falls off the table; truncated after 200 steps (8 s).

    ## Arguments
    goal_distance ((0.05, 0.10) m), success_threshold (0.03 m), reach_weight (0.5), push_weight (2.0),
    success_bonus (1.0), ctrl_cost_weight (0.01), plus :class:`TabletopEnv`'s.

    ## Version History
    - v0: initial version.
    """

    family = "push"

    def __init__(self, goal_distance: tuple[float, float] = (0.05, 0.10), success_threshold: float = 0.03,
                 reach_weight: float = 0.5, push_weight: float = 2.0, success_bonus: float = 1.0,
                 ctrl_cost_weight: float = 0.01, **kwargs) -> None:
        super().__init__(**kwargs)
        self.goal_distance, self.success_threshold = goal_distance, success_threshold
        self.reach_weight, self.push_weight = reach_weight, push_weight
        self.success_bonus, self.ctrl_cost_weight = success_bonus, ctrl_cost_weight

    def _sample_task(self) -> Instruction:
        candidates = [n for n, obj in self.world.objects.items() if obj.shape in PUSHABLE]
        order = [str(n) for n in self.np_random.permutation(candidates)]
        for name in order:  # the first object with a clear push to somewhere in the workspace
            goal = self._sample_goal(name, clear=True)
            if goal is not None:
                break
        else:  # cluttered layout (rare): accept a blocked path rather than fail the reset
            name = order[0]
            goal = self._sample_goal(name, clear=False)
        self.target_object = name
        self.goal = np.array([goal[0], goal[1], 0.0])
        self.world.set_goal_marker(self.goal[:2])
        return sample_instruction(self.family, self.np_random, self.world.object_colors[self.target_object],
                                  self._object_shape(self.target_object), language=self.language,
                                  split=self.instruction_split)

    def _sample_goal(self, name: str, clear: bool) -> np.ndarray | None:
        """A marker position in the workspace ``goal_distance`` from object ``name``; with
        ``clear``, only one whose push leaves other objects and the containers untouched."""
        ws = self.world.config.workspace
        obj = self.world.object_position(name)[:2]
        objects = [self.world.object_position(n)[:2] for n in self.world.objects if n != name]
        for _ in range(100):
            ang = self.np_random.uniform(-np.pi, np.pi)
            u = np.array([np.cos(ang), np.sin(ang)])
            goal = obj + u * self.np_random.uniform(*self.goal_distance)
            r, az = np.linalg.norm(goal), np.arctan2(goal[1], goal[0])
            start = obj - 0.055 * u  # where the gripper stands to push
            if not (REACH_RADIUS[0] <= r <= REACH_RADIUS[1] and
                    ws.object_azimuth[0] - 0.15 <= az <= ws.object_azimuth[1] + 0.15 and
                    REACH_RADIUS[0] - 0.01 <= np.linalg.norm(start) <= REACH_RADIUS[1] + 0.01):
                continue
            if not clear or (
                    all(_segment_distance(o, obj, goal) > 0.045 and np.linalg.norm(o - start) > 0.045
                        for o in objects)
                    and self.world.container_clearance(start) > 0.025
                    and self.world.container_clearance(goal) > 0.03):
                return goal
        return None if clear else obj + np.array([0.0, 0.06 if obj[1] < 0 else -0.06])

    def _push_error(self) -> float:
        return float(np.linalg.norm(self.world.object_position(self.target_object)[:2] - self.goal[:2]))

    def _is_success(self) -> bool:
        return self._push_error() < self.success_threshold

    def _reward_terms(self, action: np.ndarray, success: bool) -> dict[str, float]:
        reach = np.linalg.norm(self.world.ee_position() - self.world.object_position(self.target_object))
        return {
            "reward_reach": -self.reach_weight * float(reach),
            "reward_push": -self.push_weight * self._push_error(),
            "reward_success": self.success_bonus * float(success),
            "reward_ctrl": -self.ctrl_cost_weight * float(np.sum(np.square(action[:5]))),
        }


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))
