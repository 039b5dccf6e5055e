"""Meta-World demonstrations and environments, mapped onto our dataset features.

Why here and not in the simulator package: Meta-World is an external benchmark
we do not own; we use its own scripted experts to record demonstrations and its
own success signal to score the policy, so our numbers sit beside published ones
(LeRobot's protocol: one camera, 4-D end-effector + gripper proprioception, 4-D
actions, 10 episodes per task). The features are the ordinary LeRobotDataset v3
ones, so training takes no special path for Meta-World.

Rendering on a CPU (llvmpipe) is the cost that dominates: shadows and
multisampling are switched off (95-125 ms -> 14 ms per frame), and the frame is
rendered at ``render_size`` and cropped to the table, because the goal markers
and the puck are 1-2 px in the full 84x84 view (FACTS.md calibration run). On
llvmpipe a frame costs the same 12-13 ms at 128, 160 or 192 px (measured), so
pixels are cheap to render; the model chooses the size it trains at (``data``
resizes with antialiasing, the policy resizes the same way).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Meta-World MT10, in the benchmark's order.
MT10_TASKS: tuple[str, ...] = (
    "reach-v3", "push-v3", "pick-place-v3", "door-open-v3", "drawer-open-v3",
    "drawer-close-v3", "button-press-topdown-v3", "peg-insert-side-v3", "window-open-v3",
    "window-close-v3",
)

#: Meta-World MT50 by LeRobot's difficulty groups (the grouping SmolVLA's Table 2 reports).
DIFFICULTY_GROUPS: dict[str, tuple[str, ...]] = {
    "easy": (
        "button-press-v3", "button-press-topdown-v3", "button-press-topdown-wall-v3", "button-press-wall-v3",
        "coffee-button-v3", "dial-turn-v3", "door-close-v3", "door-lock-v3", "door-open-v3",
        "door-unlock-v3", "drawer-close-v3", "drawer-open-v3", "faucet-close-v3", "faucet-open-v3",
        "handle-press-v3", "handle-press-side-v3", "handle-pull-v3", "handle-pull-side-v3",
        "lever-pull-v3", "plate-slide-v3", "plate-slide-back-v3", "plate-slide-back-side-v3",
        "plate-slide-side-v3", "reach-v3", "reach-wall-v3", "window-close-v3", "window-open-v3",
        "peg-unplug-side-v3",
    ),
    "medium": (
        "basketball-v3", "bin-picking-v3", "box-close-v3", "coffee-pull-v3", "coffee-push-v3", "hammer-v3",
        "peg-insert-side-v3", "push-wall-v3", "soccer-v3", "sweep-v3", "sweep-into-v3",
    ),
    "hard": ("assembly-v3", "hand-insert-v3", "pick-out-of-hole-v3", "pick-place-v3", "push-v3",
             "push-back-v3"),
    "very_hard": ("shelf-place-v3", "disassemble-v3", "stick-pull-v3", "stick-push-v3", "pick-place-wall-v3"),
}
MT50_TASKS: tuple[str, ...] = tuple(t for group in DIFFICULTY_GROUPS.values() for t in group)

#: Named task sets: ``metaworld-mt10``, ``metaworld-mt50`` and ``metaworld-<difficulty group>``.
SUITES: dict[str, tuple[str, ...]] = {"metaworld-mt10": MT10_TASKS, "metaworld-mt50": MT50_TASKS,
                                      **{f"metaworld-{g}": tasks for g, tasks in DIFFICULTY_GROUPS.items()}}

#: One instruction per task (the language input); paraphrases come from the data pipeline.
TASK_INSTRUCTIONS: dict[str, str] = {
    "reach-v3": "reach the goal position",
    "push-v3": "push the puck to the goal",
    "pick-place-v3": "pick up the puck and place it at the goal",
    "door-open-v3": "open the door",
    "drawer-open-v3": "open the drawer",
    "drawer-close-v3": "close the drawer",
    "button-press-topdown-v3": "press the button from the top",
    "peg-insert-side-v3": "insert the peg into the hole from the side",
    "window-open-v3": "slide the window open",
    "window-close-v3": "slide the window closed",
    # the other 40 MT50 tasks
    "assembly-v3": "put the ring nut onto the peg",
    "basketball-v3": "put the ball into the basket",
    "bin-picking-v3": "move the puck from one bin into the other bin",
    "box-close-v3": "pick up the lid and close the box",
    "button-press-topdown-wall-v3": "press the button from the top behind the wall",
    "button-press-v3": "press the button from the front",
    "button-press-wall-v3": "press the button from the front behind the wall",
    "coffee-button-v3": "press the button on the coffee machine",
    "coffee-pull-v3": "pull the mug out of the coffee machine",
    "coffee-push-v3": "push the mug under the coffee machine",
    "dial-turn-v3": "turn the dial half a turn",
    "disassemble-v3": "lift the ring nut off the peg",
    "door-close-v3": "close the door",
    "door-lock-v3": "turn the lock to lock the door",
    "door-unlock-v3": "turn the lock to unlock the door",
    "faucet-close-v3": "turn the faucet clockwise to close it",
    "faucet-open-v3": "turn the faucet counterclockwise to open it",
    "hammer-v3": "hammer the nail into the wall",
    "hand-insert-v3": "put the gripper into the hole",
    "handle-press-side-v3": "press the handle down from the side",
    "handle-press-v3": "press the handle down",
    "handle-pull-side-v3": "pull the handle up from the side",
    "handle-pull-v3": "pull the handle up",
    "lever-pull-v3": "pull the lever down",
    "peg-unplug-side-v3": "pull the peg out sideways",
    "pick-out-of-hole-v3": "pick the puck up out of the hole",
    "pick-place-wall-v3": "pick up the puck and place it at the goal behind the wall",
    "plate-slide-back-side-v3": "slide the plate out of the cabinet sideways",
    "plate-slide-back-v3": "slide the plate out of the cabinet",
    "plate-slide-side-v3": "slide the plate into the cabinet sideways",
    "plate-slide-v3": "slide the plate into the cabinet",
    "push-back-v3": "push the puck back to the goal",
    "push-wall-v3": "push the puck to the goal around the wall",
    "reach-wall-v3": "reach the goal position behind the wall",
    "shelf-place-v3": "pick up the puck and place it on the shelf",
    "soccer-v3": "kick the ball into the goal",
    "stick-pull-v3": "grab the stick and pull the box with it",
    "stick-push-v3": "grab the stick and push the box with it",
    "sweep-into-v3": "sweep the puck into the hole",
    "sweep-v3": "sweep the puck off the table",
}


def suite_tasks(suite: str) -> tuple[str, ...]:
    """Tasks of a named suite (see ``SUITES``); raises with the valid names."""
    if suite not in SUITES:
        raise ValueError(f"unknown Meta-World suite {suite!r}; choose one of {sorted(SUITES)}")
    return SUITES[suite]


def difficulty_of(task: str) -> str:
    return next(g for g, tasks in DIFFICULTY_GROUPS.items() if task in tasks)


CAMERA = "corner2"
STATE_DIM = 4  # end-effector xyz (m) + gripper opening, as LeRobot's Meta-World port feeds policies
ACTION_DIM = 4  # end-effector xyz delta + gripper effort, each in [-1, 1]
FPS = 80  # Meta-World's control rate (frame_skip 5 at 2.5 ms)


@dataclass(frozen=True)
class RenderSpec:
    """How a frame is rendered and cropped; stored with the dataset so eval renders the same way.

    render_size: square render side in px. crop: (top, left, height, width) in px of the
    rendered (already upright) frame; the default keeps the table and the goal area.
    """

    render_size: int = 160
    crop: tuple[int, int, int, int] = (25, 30, 120, 120)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.crop[2], self.crop[3], 3)


class MetaWorldTask:
    """One Meta-World task as (image, 4-D state) observations; closes its renderer on ``close``."""

    def __init__(self, task: str, seed: int, render: RenderSpec | None = None) -> None:
        if task not in TASK_INSTRUCTIONS:
            raise ValueError(f"unknown Meta-World task {task!r}; choose one of {sorted(TASK_INSTRUCTIONS)}")
        os.environ.setdefault("MUJOCO_GL", "egl")
        import gymnasium as gym
        import metaworld  # noqa: F401  (registers the Meta-World/* envs)

        self.task = task
        self.render_spec = render or RenderSpec()
        size = self.render_spec.render_size
        self.env = gym.make("Meta-World/MT1", env_name=task, seed=seed, render_mode="rgb_array",
                            camera_name=CAMERA, width=size, height=size)
        model = self.env.unwrapped.model
        model.vis.quality.shadowsize = 0
        model.vis.quality.offsamples = 0
        self.max_steps = int(self.env.unwrapped.max_path_length)
        self._full_obs: np.ndarray | None = None

    def reset(self, seed: int) -> dict[str, np.ndarray]:
        self._full_obs, _ = self.env.reset(seed=seed)
        return self._observation()

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], bool]:
        """Apply a 4-D action (clipped to [-1, 1]); return the observation and task success."""
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self._full_obs, _, _, _, info = self.env.step(action)
        return self._observation(), bool(info["success"])

    def expert_action(self) -> np.ndarray:
        from metaworld.policies import ENV_POLICY_MAP

        if not hasattr(self, "_expert"):
            self._expert = ENV_POLICY_MAP[self.task]()
        return np.clip(self._expert.get_action(self._full_obs), -1.0, 1.0).astype(np.float32)

    def _observation(self) -> dict[str, np.ndarray]:
        frame = self.env.render()[::-1, ::-1]  # MuJoCo's offscreen corner2 view is upside down
        top, left, h, w = self.render_spec.crop
        image = np.ascontiguousarray(frame[top:top + h, left:left + w])
        state = np.asarray(self._full_obs[:STATE_DIM], dtype=np.float32)
        return {"observation.state": state, f"observation.images.{CAMERA}": image}

    def close(self) -> None:
        self.env.close()


def features(render: RenderSpec) -> dict[str, dict]:
    """LeRobotDataset v3 feature spec of a Meta-World dataset."""
    return {
        "observation.state": {"dtype": "float32", "shape": (STATE_DIM,),
                              "names": ["ee_x", "ee_y", "ee_z", "gripper"]},
        f"observation.images.{CAMERA}": {"dtype": "video", "shape": render.image_shape,
                                         "names": ["height", "width", "channel"]},
        "action": {"dtype": "float32", "shape": (ACTION_DIM,),
                   "names": ["dx", "dy", "dz", "gripper"]},
    }


def expert_episode(task: MetaWorldTask, seed: int, max_steps: int | None = None,
                   tail_steps: int = 10) -> Iterator[dict[str, np.ndarray]]:
    """Yield the frames (observation + expert action) of one scripted episode.

    The episode stops ``tail_steps`` after the first success so the policy also learns
    to hold still at the goal; a failed expert episode raises, so no failure is ever
    recorded as a demonstration.
    """
    obs = task.reset(seed)
    limit = max_steps or task.max_steps
    after_success = None
    for _ in range(limit):
        action = task.expert_action()
        yield {**obs, "action": action}
        obs, success = task.step(action)
        if success and after_success is None:
            after_success = 0
        if after_success is not None:
            after_success += 1
            if after_success >= tail_steps:
                return
    if after_success is None:
        raise RuntimeError(f"the scripted expert failed {task.task} on seed {seed} within {limit} steps")


def generate(root: str, tasks: tuple[str, ...] = MT10_TASKS, episodes_per_task: int = 50,
             seed: int = 0, render: RenderSpec | None = None) -> int:
    """Record ``episodes_per_task`` expert demos per task through our dataset writer,
    one dataset per task in ``root/<task>`` (tasks can be generated by parallel processes).

    Layout seeds run ``seed, seed + 1, ...`` until ``episodes_per_task`` expert episodes
    succeeded (LeRobot's protocol: 50 demonstrations per task); episodes the expert fails
    are skipped, never recorded. Evaluation uses seeds from 10_000 up, never reached here.
    Returns the number of episodes written.
    """
    from pathlib import Path

    from embodied_stack.datasets import LeRobotDatasetWriter

    render = render or RenderSpec()
    written = 0
    for name in tasks:
        writer = LeRobotDatasetWriter.create(Path(root) / name, fps=FPS, features=features(render),
                                             robot_type="sawyer")
        task = MetaWorldTask(name, seed=seed, render=render)
        try:
            recorded = 0
            for layout in range(seed, seed + 3 * episodes_per_task):
                if recorded == episodes_per_task:
                    break
                try:
                    frames = list(expert_episode(task, seed=layout))
                except RuntimeError:
                    continue
                for frame in frames:
                    writer.add_frame(frame, task=TASK_INSTRUCTIONS[name])
                writer.save_episode()
                recorded += 1
            if recorded < episodes_per_task:
                raise RuntimeError(f"the scripted expert failed {name} on most layouts "
                                   f"({recorded} of {3 * episodes_per_task} succeeded)")
            written += recorded
        finally:
            task.close()
            writer.finalize()
    return written
