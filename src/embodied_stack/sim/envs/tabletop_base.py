"""Shared machinery of the tabletop Gymnasium envs (reach, push, pick-and-place).

Why a base class: the three tasks differ only in what they ask (task sampling,
success, reward terms); observations, actions, cameras, seeding and termination
must be identical so one policy (the VLA) can be trained on all of them. A task
subclass implements the four ``_``-hooks, as Gymnasium's MuJoCo envs do on top of
``MujocoEnv``.

See :class:`TabletopEnv` for the observation/action specification.
"""

from __future__ import annotations

import abc
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from embodied_stack.hardware import JointCommand
from embodied_stack.sim import so_arm
from embodied_stack.sim.instructions import Instruction, charset
from embodied_stack.sim.judge import LastingSuccess
from embodied_stack.sim.rendering import CameraRig
from embodied_stack.sim.tabletop import TabletopConfig, TabletopWorld

OBS_MODES = ("state", "scene", "scene+wrist")
REWARD_TYPES = ("dense", "sparse")
INSTRUCTION_MAX_LENGTH = 128
FELL_OFF_Z = -0.05  # m: an object below the table top has fallen off


class TabletopEnv(gym.Env[dict[str, Any], np.ndarray], abc.ABC):
    """Base of the tabletop tasks. Subclasses document their task, reward and success.

    ## Action Space
    ``Box(-1, 1, (6,), float32)``:

    | Num | Action                                   | Unit / scale                       |
    |-----|------------------------------------------|-----------------------------------|
    | 0-4 | change of the joint position targets of  | x ``max_joint_delta`` rad per step |
    |     | shoulder_pan, shoulder_lift, elbow_flex, |                                    |
    |     | wrist_flex, wrist_roll                   |                                    |
    | 5   | gripper opening target (absolute)        | -1 closed .. +1 open (72 mm)       |

    Deltas add to the previous *targets* (not the measured positions, so gravity
    or contact never makes the arm drift), then go through the SimArm's safety filter
    (joint limits; at most 0.25 rad from the measured position). The gripper is
    absolute because "closed"/"open" is what demonstrations mean. Control is 25 Hz.

    ## Observation Space
    ``Dict`` whose keys depend on ``obs_mode``:

    | Key           | Modes              | Space                              | Content                      |
    |---------------|--------------------|------------------------------------|------------------------------|
    | "state"       | all                | Box(6,) float32                    | 5 joint positions (rad),     |
    |               |                    |                                    | gripper opening 0..1         |
    | "goal"        | "state"            | Box(9,) float32, m                 | ee position, target object   |
    |               |                    |                                    | position, goal position      |
    | "scene"       | "scene", "+wrist"  | Box(0, 255, (H, W, 3), uint8)      | scene camera RGB             |
    | "wrist"       | "scene+wrist"      | Box(0, 255, (H, W, 3), uint8)      | wrist camera RGB             |
    | "instruction" | instruction_in_obs | Text(128, charset of instructions) | the language instruction     |

    ``"goal"`` is privileged (simulator ground truth): it is what state-based RL
    needs; image policies get the instruction instead. The instruction is always in
    ``info["instruction"]`` (and ``env.unwrapped.instruction``); it enters the
    observation only with ``instruction_in_obs=True``, because stable-baselines3
    cannot hold strings in observations (gymnasium's ``check_env`` passes either way).

    ## Rewards
    ``reward_type="dense"``: the sum of the task's ``reward_*`` terms (all in ``info``);
    ``"sparse"``: 1.0 on success, else 0.0. ``info["is_success"]`` every step.

    ## Episode End
    ``terminated``: success (with ``terminate_on_success``) or the target object fell
    off the table. ``truncated``: from ``max_episode_steps`` of the registration
    (TimeLimit wrapper).

    ## Arguments
    obs_mode: "state" | "scene" | "scene+wrist".
    image_size: camera image side in px (square); 96 by default (policy input size).
    instruction_in_obs: add the ``"instruction"`` Text observation.
    language: "en" | "zh" | "both" (each episode draws one).
    instruction_split: "train" | "eval" (held-out phrasings, see ``instructions.py``).
    reward_type: "dense" | "sparse".
    terminate_on_success: end the episode when the task is done.
    success_hold_s: the task's condition must hold this long without a break (sim s) before it counts
        as success (``sim.judge.LastingSuccess``): 0 = the first moment it holds; evaluation uses more,
        so an object dropped or knocked out right after landing is not a success.
    max_joint_delta: rad per step a full +-1 action moves a joint target.
    world_config: ``TabletopConfig``, a YAML path, or None for ``config/sim/tabletop.yaml``
        (randomisation is configured there).
    render_mode: None | "rgb_array" (scene camera at ``render_size`` px).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}
    #: instruction family of the task (key of instructions.TEMPLATES)
    family: str = ""

    def __init__(self, obs_mode: str = "state", image_size: int = 96, instruction_in_obs: bool = False,
                 language: str = "en", instruction_split: str = "train", reward_type: str = "dense",
                 terminate_on_success: bool = True, success_hold_s: float = 0.0,
                 max_joint_delta: float = 0.08, world_config: TabletopConfig | str | None = None,
                 render_mode: str | None = None, render_size: int = 256) -> None:
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode '{obs_mode}' unknown; use one of {OBS_MODES}")
        if reward_type not in REWARD_TYPES:
            raise ValueError(f"reward_type '{reward_type}' unknown; use one of {REWARD_TYPES}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode '{render_mode}' unsupported; use None or 'rgb_array'")
        if not max_joint_delta > 0:
            raise ValueError(f"max_joint_delta must be > 0 rad, got {max_joint_delta}")
        if language not in ("en", "zh", "both"):
            raise ValueError(f"language '{language}' unknown; use 'en', 'zh' or 'both'")
        self.obs_mode, self.image_size = obs_mode, image_size
        self.instruction_in_obs, self.language = instruction_in_obs, language
        self.instruction_split = instruction_split
        self.reward_type, self.terminate_on_success = reward_type, terminate_on_success
        self.success_hold_s = success_hold_s
        self._lasting = LastingSuccess(success_hold_s)
        self.max_joint_delta, self.render_mode, self.render_size = max_joint_delta, render_mode, render_size
        self.world = TabletopWorld(world_config)
        self.arm = self.world.arm
        self.cameras = {"state": [], "scene": [so_arm.SCENE_CAMERA],
                        "scene+wrist": [so_arm.SCENE_CAMERA, so_arm.WRIST_CAMERA]}[obs_mode]
        self._rig = CameraRig(self.world.model, self.cameras, image_size, image_size, depth=False) \
            if self.cameras else None
        self._render_rig: CameraRig | None = None

        self.action_space = spaces.Box(-1.0, 1.0, shape=(6,), dtype=np.float32)
        obs: dict[str, spaces.Space] = {
            "state": spaces.Box(np.append(so_arm.JOINT_LOWER, 0.0).astype(np.float32),
                                np.append(so_arm.JOINT_UPPER, 1.0).astype(np.float32), dtype=np.float32),
        }
        if obs_mode == "state":
            obs["goal"] = spaces.Box(-2.0, 2.0, shape=(9,), dtype=np.float32)
        for cam in self.cameras:
            obs[cam] = spaces.Box(0, 255, shape=(image_size, image_size, 3), dtype=np.uint8)
        if instruction_in_obs:
            obs["instruction"] = spaces.Text(INSTRUCTION_MAX_LENGTH, charset=charset())
        self.observation_space = spaces.Dict(obs)

        self.target_object = next(iter(self.world.objects))
        self.goal = np.zeros(3)
        self.instruction: Instruction | None = None

    # --- task hooks ------------------------------------------------------------------------
    @abc.abstractmethod
    def _sample_task(self) -> Instruction | None:
        """Choose target/goal with ``self.np_random`` (set ``target_object``, ``goal``); None when this
        scene has no task the env may ask for (``reset`` then draws another scene)."""

    @abc.abstractmethod
    def _is_success(self) -> bool: ...

    @abc.abstractmethod
    def _reward_terms(self, action: np.ndarray, success: bool) -> dict[str, float]:
        """Dense reward terms named ``reward_*``; their sum is the dense reward."""

    # --- gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        # One seed fixes the world (layout, colours, lights) and the task drawn on it; a scene without a
        # task of the env's task split (none of its objects is asked for there) is redrawn.
        for _ in range(1000):
            self.world.reset(seed=int(self.np_random.integers(2**31 - 1)))
            instruction = self._sample_task()
            if instruction is not None:
                break
        else:
            raise RuntimeError("no scene with a task of this task split in 1000 draws; check the split")
        self.instruction = instruction
        self._lasting.reset()
        obs = self._get_obs()
        return obs, self._info(success=self._is_success(), terms={})

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        a = np.asarray(action, dtype=np.float64).reshape(self.action_space.shape)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action contains NaN/inf: {a.tolist()}; the arm was not moved")
        a = np.clip(a, -1.0, 1.0)
        command = JointCommand(positions=self.joint_targets_after(a), gripper=0.5 * (a[5] + 1.0))
        return self._advance(command, a)

    def step_command(self, command: JointCommand | None
                     ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """``step`` for a controller that commands joint targets, as the robot driver receives them: the
        arm's safety filter applies ``command`` (None: no command this period, the arm holds its last
        targets, as the driver does). Why: the VLA's ``PolicyRunner`` produces absolute targets with its
        own clamps; replaying them as ``step`` deltas would add the action's ``max_joint_delta`` clamp,
        which the stack never applies (``vla.rollout``)."""
        previous = self.arm.joint_targets
        if command is None:
            command = JointCommand(positions=previous, gripper=self.arm.gripper_target)
        delta = (np.asarray(command.positions, dtype=np.float64) - previous) / self.max_joint_delta
        return self._advance(command, np.append(delta, 2.0 * command.gripper - 1.0))

    def _advance(self, command: JointCommand, a: np.ndarray
                 ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Apply ``command``, step the world, judge; ``a`` is its native action (for the reward)."""
        self.arm.send_joint_command(command)
        self.world.step()
        success = self._lasting.update(self.world.time, self._is_success())
        terms = self._reward_terms(a, success)
        reward = float(sum(terms.values())) if self.reward_type == "dense" else float(success)
        fell = bool(self.world.object_position(self.target_object)[2] < FELL_OFF_Z)
        terminated = bool((success and self.terminate_on_success) or fell)
        return self._get_obs(), reward, terminated, False, self._info(success, terms)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._render_rig is None:
            self._render_rig = CameraRig(self.world.model, [so_arm.SCENE_CAMERA], self.render_size,
                                         self.render_size, depth=False)
        return self._render_rig.render(self.world.data, self.world.time)[so_arm.SCENE_CAMERA].rgb

    def close(self) -> None:
        for rig in (self._rig, self._render_rig):
            if rig is not None:
                rig.close()
        self._rig = self._render_rig = None
        self.world.close()

    # --- helpers ------------------------------------------------------------------------------
    def joint_targets_after(self, action: np.ndarray) -> np.ndarray:
        """The joint targets ``step(action)`` commands: current targets + the clipped deltas x
        ``max_joint_delta``, inside the joint limits (the safety filter may still clamp them)."""
        a = np.clip(np.asarray(action, dtype=np.float64)[:5], -1.0, 1.0)
        return np.clip(self.arm.joint_targets + a * self.max_joint_delta, so_arm.JOINT_LOWER,
                       so_arm.JOINT_UPPER)

    def state_vector(self) -> np.ndarray:
        """Proprioception: joint positions (rad) + gripper opening (0..1), float32."""
        return np.append(self.arm.joint_positions, self.arm.gripper_opening).astype(np.float32)

    def _get_obs(self) -> dict[str, Any]:
        obs: dict[str, Any] = {"state": np.clip(self.state_vector(), self.observation_space["state"].low,
                                                self.observation_space["state"].high)}
        if self.obs_mode == "state":
            vec = np.concatenate([self.world.ee_position(), self.world.object_position(self.target_object),
                                  self.goal])
            obs["goal"] = np.clip(vec, -2.0, 2.0).astype(np.float32)
        if self._rig is not None:
            for cam, frame in self._rig.render(self.world.data, self.world.time).items():
                obs[cam] = frame.rgb
        if self.instruction_in_obs:
            obs["instruction"] = self.instruction.text if self.instruction else ""
        return obs

    def _info(self, success: bool, terms: dict[str, float]) -> dict[str, Any]:
        return {"is_success": bool(success), "instruction": self.instruction.text if self.instruction else "",
                "language": self.instruction.language if self.instruction else "",
                "target_object": self.target_object, **terms}

    def _object_shape(self, name: str) -> str:
        return self.world.objects[name].shape

    def _object_half_height(self, name: str) -> float:
        return self.world.objects[name].size[2] / 2.0
