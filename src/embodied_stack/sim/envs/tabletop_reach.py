"""``embodied_stack/Reach-v0``: bring the gripper above a named object."""

from __future__ import annotations

import numpy as np

from embodied_stack.sim.envs.tabletop_base import TabletopEnv
from embodied_stack.sim.instructions import Instruction, sample_instruction


class TabletopReachEnv(TabletopEnv):
    """Move the end effector to a point above the object the instruction names
    ("reach the red cube" / "移动到红色方块上方").

    ## Description
    An SO-arm (5 joints + parallel gripper) faces the world's objects (by default four: two
    cubes, a cylinder, a ball; ``world_config`` may load more) in random colours and poses. The
    target is the point ``hover_height`` above the top of one of them, drawn uniformly.

    Action and observation spaces: see :class:`TabletopEnv` (the ``"goal"`` observation's
    last three values are the reach point).

    ## Rewards (dense; ``reward_*`` in ``info``)
    - ``reward_distance``: ``-distance_weight * |ee - target|`` (m)
    - ``reward_success``: ``success_bonus`` on the step the target is reached
    - ``reward_ctrl``: ``-ctrl_cost_weight * |a_joints|^2``

    ## Success
    ``|ee - target| < success_threshold`` (m).

    ## Starting State
    Arm at ``so_arm.HOME_QPOS`` (gripper above the table, pointing down, open); world
    randomised per ``config/sim/tabletop.yaml``.

    ## Episode End
    Terminates on success (``terminate_on_success``); truncated after 100 steps (4 s).

    ## Arguments
    hover_height (0.03 m), success_threshold (0.02 m), distance_weight (1.0),
    success_bonus (1.0), ctrl_cost_weight (0.01), plus :class:`TabletopEnv`'s.

    ## Version History
    - v0: initial version.
    """

    family = "reach"

    def __init__(self, hover_height: float = 0.03, success_threshold: float = 0.02,
                 distance_weight: float = 1.0, success_bonus: float = 1.0, ctrl_cost_weight: float = 0.01,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.hover_height, self.success_threshold = hover_height, success_threshold
        self.distance_weight, self.success_bonus, self.ctrl_cost_weight = (
            distance_weight, success_bonus, ctrl_cost_weight)

    def _sample_task(self) -> Instruction:
        self.target_object = str(self.np_random.choice(list(self.world.objects)))
        self.goal = self._target_point()
        return sample_instruction(self.family, self.np_random, self.world.object_colors[self.target_object],
                                  self._object_shape(self.target_object), language=self.language,
                                  split=self.instruction_split)

    def _target_point(self) -> np.ndarray:
        p = self.world.object_position(self.target_object)
        return p + np.array([0.0, 0.0, self._object_half_height(self.target_object) + self.hover_height])

    def _distance(self) -> float:
        return float(np.linalg.norm(self.world.ee_position() - self.goal))

    def _is_success(self) -> bool:
        return self._distance() < self.success_threshold

    def _reward_terms(self, action: np.ndarray, success: bool) -> dict[str, float]:
        return {
            "reward_distance": -self.distance_weight * self._distance(),
            "reward_success": self.success_bonus * float(success),
            "reward_ctrl": -self.ctrl_cost_weight * float(np.sum(np.square(action[:5]))),
        }
