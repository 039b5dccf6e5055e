"""``embodied_stack/QuadrupedLocomotion-v0``: a Go2-class quadruped learns to follow a velocity command.

## Description
The legged robot of ``sim/robots/quadruped/`` stands on flat ground and must track a body-frame velocity
command (vx, vy, wz) sampled at reset, like the "joystick" task of MuJoCo Playground's Go1. Its twelve
position-controlled joints (PD like the real robot's low-level mode) take targets around the standing
pose; the learned policy is what the real robot's "sport mode" is to its users.

## Action space
``Box(-1, 1, (12,), float32)``: joint target = standing pose + ``action_scale`` x action (rad), in the order
of :data:`embodied_stack.sim.quadruped.JOINT_NAMES` (per leg FL, FR, RL, RR: hip abduction, hip flexion,
knee), clipped to the joint ranges.

## Observation space
``Box(-inf, inf, (48,), float64)``:

| idx   | observation                                         | unit           |
|-------|-----------------------------------------------------|----------------|
| 0-2   | trunk linear velocity in the trunk frame             | m/s            |
| 3-5   | gyro (trunk angular velocity) x 0.25                  | rad/s          |
| 6-8   | gravity direction in the trunk frame (unit vector)    | -              |
| 9-11  | command vx, vy, wz                                    | m/s, m/s, rad/s|
| 12-23 | joint positions minus standing pose                   | rad            |
| 24-35 | joint velocities x 0.05                               | rad/s          |
| 36-47 | previous action                                       | -              |

## Rewards
Each term is a method ``_reward_<name>`` and appears in ``info["reward_<name>"]`` already weighted; the
reward is their sum (weights are constructor arguments, costs have negative weights):
``tracking_lin_vel`` exp(-|cmd_xy - v_xy|^2 / sigma), ``tracking_ang_vel`` exp(-(cmd_wz - wz)^2 / sigma),
``lin_vel_z`` vz^2, ``ang_vel_xy`` |w_xy|^2, ``orientation`` |g_xy|^2, ``torques`` |tau|^2,
``action_rate`` |a - a_prev|^2, ``pose`` |q - q_stand|^2, ``termination`` 1 on a fall.

## Starting state
Keyframe ``home`` (standing), joint positions jittered uniformly by ``reset_noise_scale`` rad; command
sampled uniformly from ``command_vx``, ``command_vy``, ``command_wz`` (zero with ``zero_command_prob``).
With ``randomize_dynamics`` the floor friction (x0.6-1.2) and trunk mass (+-1 kg) are resampled too.

## Episode end
Terminated when the trunk tilts past 60 deg or drops below 0.12 m (a fall); truncated by the
registration's ``max_episode_steps`` (500 steps = 10 s). ``info["is_success"]`` is true while the robot
has not fallen and its mean planar velocity error this episode is below ``success_tracking_error`` m/s.

## Version history
v0: first version.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from embodied_stack.sim import quadruped as q

_TILT_LIMIT_COS = 0.5  # cos(60 deg): gravity's z in the trunk frame above -0.5 means a fall
_MIN_TRUNK_HEIGHT = 0.12  # m


class QuadrupedLocomotionEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        render_mode: str | None = None,
        frame_skip: int = 5,
        action_scale: float = 0.3,
        command_vx: tuple[float, float] = (-0.5, 1.0),
        command_vy: tuple[float, float] = (-0.3, 0.3),
        command_wz: tuple[float, float] = (-0.8, 0.8),
        zero_command_prob: float = 0.1,
        tracking_sigma: float = 0.25,
        tracking_lin_vel_weight: float = 1.0,
        tracking_ang_vel_weight: float = 0.5,
        lin_vel_z_weight: float = -2.0,
        ang_vel_xy_weight: float = -0.05,
        orientation_weight: float = -5.0,
        torques_weight: float = -2e-4,
        action_rate_weight: float = -0.01,
        pose_weight: float = -0.1,
        termination_weight: float = -10.0,
        reset_noise_scale: float = 0.05,
        randomize_dynamics: bool = False,
        success_tracking_error: float = 0.25,
        width: int = 320,
        height: int = 240,
    ) -> None:
        """Args (units SI):
            frame_skip: physics steps (4 ms) per env step; 5 gives the 50 Hz policy rate of real
                quadruped controllers.
            action_scale: rad of joint target per unit action; 0.3 keeps random actions from kicking the
                robot over while leaving room for a gait.
            command_vx/vy/wz: ranges (m/s, m/s, rad/s) the reset samples the command from.
            tracking_sigma: width (m^2/s^2) of the exponential tracking kernels.
            *_weight: reward weights, see the module docstring.
            success_tracking_error: mean planar velocity error (m/s) below which an episode succeeds.
        """
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode={render_mode!r}; supported: {self.metadata['render_modes']}")
        for name, rng in (("command_vx", command_vx), ("command_vy", command_vy), ("command_wz", command_wz)):
            if len(rng) != 2 or rng[0] > rng[1]:
                raise ValueError(f"{name}={rng} must be (low, high) with low <= high")
        if frame_skip < 1:
            raise ValueError(f"frame_skip={frame_skip} must be >= 1")
        self.render_mode = render_mode
        self.frame_skip = frame_skip
        self.action_scale = action_scale
        self.command_low = np.array([command_vx[0], command_vy[0], command_wz[0]])
        self.command_high = np.array([command_vx[1], command_vy[1], command_wz[1]])
        self.zero_command_prob = zero_command_prob
        self.tracking_sigma = tracking_sigma
        self.weights = {
            "tracking_lin_vel": tracking_lin_vel_weight,
            "tracking_ang_vel": tracking_ang_vel_weight,
            "lin_vel_z": lin_vel_z_weight,
            "ang_vel_xy": ang_vel_xy_weight,
            "orientation": orientation_weight,
            "torques": torques_weight,
            "action_rate": action_rate_weight,
            "pose": pose_weight,
            "termination": termination_weight,
        }
        self.reset_noise_scale = reset_noise_scale
        self.randomize_dynamics = randomize_dynamics
        self.success_tracking_error = success_tracking_error
        self.width, self.height = width, height

        self.model = mujoco.MjModel.from_xml_path(str(q.scene_xml()))
        self.data = mujoco.MjData(self.model)
        self._home = self.model.key("home")
        self._qadr = np.array([self.model.jnt_qposadr[self.model.joint(n).id] for n in q.JOINT_NAMES])
        self._dadr = np.array([self.model.jnt_dofadr[self.model.joint(n).id] for n in q.JOINT_NAMES])
        self._ctrl_low = self.model.actuator_ctrlrange[:, 0].copy()
        self._ctrl_high = self.model.actuator_ctrlrange[:, 1].copy()
        self._trunk = self.model.body(q.ROOT_BODY).id
        self._floor = self.model.geom("floor").id
        self._nominal_friction = self.model.geom_friction[self._floor].copy()
        self._nominal_trunk_mass = float(self.model.body_mass[self._trunk])
        self._sensor = {
            name: slice(self.model.sensor_adr[self.model.sensor(name).id],
                        self.model.sensor_adr[self.model.sensor(name).id] + self.model.sensor_dim[
                            self.model.sensor(name).id])
            for name in (q.SENSOR_GYRO, q.SENSOR_LOCAL_LINVEL)
        }

        self.action_space = spaces.Box(-1.0, 1.0, (len(q.JOINT_NAMES),), dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, (48,), dtype=np.float64)
        self.command = np.zeros(3)
        self._last_action = np.zeros(12)
        self._error_sum = 0.0
        self._steps = 0
        self._renderer: mujoco.Renderer | None = None

    @property
    def dt(self) -> float:
        return self.model.opt.timestep * self.frame_skip

    # --- gymnasium API -----------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        mujoco.mj_resetDataKeyframe(self.model, self.data, self._home.id)
        noise = rng.uniform(-self.reset_noise_scale, self.reset_noise_scale, 12)
        self.data.qpos[self._qadr] = q.DEFAULT_POSE + noise
        if self.randomize_dynamics:
            self.model.geom_friction[self._floor, 0] = self._nominal_friction[0] * rng.uniform(0.6, 1.2)
            self.model.body_mass[self._trunk] = self._nominal_trunk_mass + rng.uniform(-1.0, 1.0)
        if options and "command" in options:
            self.command = np.asarray(options["command"], dtype=np.float64).reshape(3)
        elif rng.uniform() < self.zero_command_prob:
            self.command = np.zeros(3)
        else:
            self.command = rng.uniform(self.command_low, self.command_high)
        mujoco.mj_forward(self.model, self.data)
        self._last_action = np.zeros(12)
        self._error_sum = 0.0
        self._steps = 0
        return self._obs(), {"command": self.command.copy()}

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        target = np.clip(q.DEFAULT_POSE + self.action_scale * a, self._ctrl_low, self._ctrl_high)
        self.data.ctrl[:] = target
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)

        fallen = self._fallen()
        terms = {name: w * getattr(self, f"_reward_{name}")(a, fallen) for name, w in self.weights.items()}
        reward = float(sum(terms.values()))
        self._last_action = a

        v = self.data.sensordata[self._sensor[q.SENSOR_LOCAL_LINVEL]]
        error = float(np.linalg.norm(self.command[:2] - v[:2]))
        self._error_sum += error
        self._steps += 1
        mean_error = self._error_sum / self._steps
        info = {f"reward_{k}": v_ for k, v_ in terms.items()}
        info.update(
            command=self.command.copy(),
            x_velocity=float(v[0]),
            y_velocity=float(v[1]),
            tracking_error=error,
            mean_tracking_error=mean_error,
            is_success=bool(not fallen and mean_error < self.success_tracking_error),
        )
        return self._obs(), reward, fallen, False, info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        self._renderer.update_scene(self.data, camera="track")
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # --- state -------------------------------------------------------------------------
    def _gravity_in_trunk(self) -> np.ndarray:
        """World -z expressed in the trunk frame (what an IMU's attitude estimate gives)."""
        rot = self.data.xmat[self._trunk].reshape(3, 3)
        return -rot[2, :]

    def _fallen(self) -> bool:
        return bool(self._gravity_in_trunk()[2] > -_TILT_LIMIT_COS
                    or self.data.xpos[self._trunk, 2] < _MIN_TRUNK_HEIGHT)

    def _obs(self) -> np.ndarray:
        d = self.data
        return np.concatenate([
            d.sensordata[self._sensor[q.SENSOR_LOCAL_LINVEL]],
            d.sensordata[self._sensor[q.SENSOR_GYRO]] * 0.25,
            self._gravity_in_trunk(),
            self.command,
            d.qpos[self._qadr] - q.DEFAULT_POSE,
            d.qvel[self._dadr] * 0.05,
            self._last_action,
        ])

    # --- reward terms (unweighted) -----------------------------------------------------
    def _reward_tracking_lin_vel(self, action: np.ndarray, fallen: bool) -> float:
        v = self.data.sensordata[self._sensor[q.SENSOR_LOCAL_LINVEL]]
        return float(np.exp(-np.sum((self.command[:2] - v[:2]) ** 2) / self.tracking_sigma))

    def _reward_tracking_ang_vel(self, action: np.ndarray, fallen: bool) -> float:
        wz = self.data.sensordata[self._sensor[q.SENSOR_GYRO]][2]
        return float(np.exp(-((self.command[2] - wz) ** 2) / self.tracking_sigma))

    def _reward_lin_vel_z(self, action: np.ndarray, fallen: bool) -> float:
        return float(self.data.sensordata[self._sensor[q.SENSOR_LOCAL_LINVEL]][2] ** 2)

    def _reward_ang_vel_xy(self, action: np.ndarray, fallen: bool) -> float:
        return float(np.sum(self.data.sensordata[self._sensor[q.SENSOR_GYRO]][:2] ** 2))

    def _reward_orientation(self, action: np.ndarray, fallen: bool) -> float:
        return float(np.sum(self._gravity_in_trunk()[:2] ** 2))

    def _reward_torques(self, action: np.ndarray, fallen: bool) -> float:
        return float(np.sum(self.data.actuator_force ** 2))

    def _reward_action_rate(self, action: np.ndarray, fallen: bool) -> float:
        return float(np.sum((action - self._last_action) ** 2))

    def _reward_pose(self, action: np.ndarray, fallen: bool) -> float:
        return float(np.sum((self.data.qpos[self._qadr] - q.DEFAULT_POSE) ** 2))

    def _reward_termination(self, action: np.ndarray, fallen: bool) -> float:
        return float(fallen)
