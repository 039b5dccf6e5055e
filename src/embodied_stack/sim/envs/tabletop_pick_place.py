"""``embodied_stack/TabletopPickPlace-v0``: put a named object into the bowl or the bin."""

from __future__ import annotations

import numpy as np

from embodied_stack.sim import so_arm
from embodied_stack.sim.envs.tabletop_base import TabletopEnv
from embodied_stack.sim.instructions import TASK_SPLITS, Instruction, sample_instruction, task_allowed


class TabletopPickPlaceEnv(TabletopEnv):
    """Pick up the named object and release it inside the named container
    ("put the red cube in the bowl" / "把红色方块放进碗里").

    ## Description
    Same scene as Reach; the target is any of the world's objects, the place the bowl
    (left of the arm) or the bin (right), both drawn uniformly -- among the (colour, shape,
    container) combinations of ``task_split`` (``sim.instructions.TASK_SPLITS``): ``"all"``,
    ``"seen"`` (all but the compositional hold-out: demonstrations and in-distribution evaluation)
    or ``"compositional"`` (only the held-out combinations; a scene without one is redrawn).

    Action and observation spaces: see :class:`TabletopEnv` (``"goal"``: ee, object,
    container centre).

    ## Rewards (dense; ``reward_*`` in ``info``)
    - ``reward_reach``: ``-reach_weight * |ee - object|`` (m)
    - ``reward_grasp``: ``grasp_bonus`` while the object is held off the table
    - ``reward_place``: ``-place_weight * |object - above container|`` (m), the point
      ``0.05 m`` above the container centre, so carrying it there pays
    - ``reward_success``: ``success_bonus`` when done
    - ``reward_ctrl``: ``-ctrl_cost_weight * |a_joints|^2``

    ## Success
    The object's centre is inside the container's footprint, below its rim, and no
    finger pad touches it (it was let go).

    ## Episode End
    Terminates on success or when the object falls off the table; truncated after 200 steps (8 s).

    ## Arguments
    task_split ("all"), reach_weight (0.5), grasp_bonus (0.25), place_weight (1.0), success_bonus (2.0),
    ctrl_cost_weight (0.01), plus :class:`TabletopEnv`'s.

    ## Version History
    - v0: initial version.
    """

    family = "pick_place"

    def __init__(self, task_split: str = "all", reach_weight: float = 0.5, grasp_bonus: float = 0.25,
                 place_weight: float = 1.0, success_bonus: float = 2.0, ctrl_cost_weight: float = 0.01,
                 **kwargs) -> None:
        if task_split not in TASK_SPLITS:
            raise ValueError(f"task_split '{task_split}' unknown; use one of {TASK_SPLITS}")
        self.task_split = task_split
        super().__init__(**kwargs)
        self.reach_weight, self.grasp_bonus, self.place_weight = reach_weight, grasp_bonus, place_weight
        self.success_bonus, self.ctrl_cost_weight = success_bonus, ctrl_cost_weight
        self.container = "bowl"

    def _sample_task(self) -> Instruction | None:
        if self.task_split == "all":
            self.target_object = str(self.np_random.choice(list(self.world.objects)))
            self.container = str(self.np_random.choice(list(so_arm.TABLETOP_CONTAINERS)))
        else:  # the (object, container) pairs of this scene that the split asks for
            options = [(o, c) for o in self.world.objects for c in so_arm.TABLETOP_CONTAINERS
                       if task_allowed(self.task_split, self.world.object_colors[o], self._object_shape(o),
                                       so_arm.TABLETOP_CONTAINERS[c][0])]
            if not options:
                return None  # no such object in this scene: reset draws another
            self.target_object, self.container = options[int(self.np_random.integers(len(options)))]
        self.goal = self.world.object_position(self.container)
        return sample_instruction(self.family, self.np_random, self.world.object_colors[self.target_object],
                                  self._object_shape(self.target_object),
                                  place=so_arm.TABLETOP_CONTAINERS[self.container][0],
                                  language=self.language, split=self.instruction_split)

    def is_grasped(self) -> bool:
        """Held: touching a finger pad and lifted clear of where it rests on the table."""
        lifted = self.world.object_position(self.target_object)[2] > self._object_half_height(
            self.target_object) + 0.01
        return lifted and self.world.in_gripper_contact(self.target_object)

    def _is_success(self) -> bool:
        return (self.world.inside_container(self.target_object, self.container)
                and not self.world.in_gripper_contact(self.target_object))

    def _reward_terms(self, action: np.ndarray, success: bool) -> dict[str, float]:
        obj = self.world.object_position(self.target_object)
        above = self.goal + np.array([0.0, 0.0, 0.05])
        return {
            "reward_reach": -self.reach_weight * float(np.linalg.norm(self.world.ee_position() - obj)),
            "reward_grasp": self.grasp_bonus * float(self.is_grasped()),
            "reward_place": -self.place_weight * float(np.linalg.norm(obj - above)),
            "reward_success": self.success_bonus * float(success),
            "reward_ctrl": -self.ctrl_cost_weight * float(np.sum(np.square(action[:5]))),
        }
