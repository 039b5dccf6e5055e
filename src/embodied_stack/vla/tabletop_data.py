"""Tabletop pick-and-place demonstrations from the simulator's scripted experts.

The env (``embodied_stack/TabletopPickPlace-v0``, ``obs_mode="scene+wrist"``) and its
expert (``embodied_stack.sim.experts``) are the simulator's; this module only maps
them onto LeRobotDataset features and records successful episodes through our
writer, one instruction per episode (English and Chinese, the ``"train"`` phrasings;
evaluation uses the held-out ``"eval"`` phrasings and seeds >= 10_000).

Two action spaces (``ACTION_SPACES``; the model config's ``action_space`` says which a
checkpoint predicts):

* ``"native"``: the env's own action, joint-*target deltas* x ``max_joint_delta`` + gripper.
  The policy sees measured joint positions, not the targets the deltas add to, so every
  error integrates and nothing in the observation lets the policy undo it.
* ``"joint_position"`` (default): the *absolute* joint targets the expert commands + gripper,
  LeRobot's convention for SO-100/101 arms (``action`` = goal positions). An error in one
  prediction is not carried into the next, and the node can command targets directly.

Why noisy execution (DART, Laskey et al. 2017): a behaviour-cloned policy drifts off the
expert's path and has never seen how to come back. Recording the expert's *clean* action
while executing a perturbed one puts recovery states into the data at no labelling cost,
because the scripted expert is closed loop (it re-plans from the simulator state every
step). Each episode draws its noise scale from [0, ``noise``] so clean runs stay in the data.
"""

from __future__ import annotations

import os

import numpy as np

ENV_ID = "embodied_stack/TabletopPickPlace-v0"
CAMERAS = ("scene", "wrist")
STATE_DIM = 6  # 5 joint positions (rad) + gripper opening (0..1)
ACTION_DIM = 6  # 5 joint values (see ACTION_SPACES) + absolute gripper (-1 closed..1 open)
FPS = 25
IMAGE_SIZE = 96
ACTION_SPACES = ("native", "joint_position")
JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll"]


def make_env(split: str = "train", language: str = "both", success_hold_s: float | None = None,
             calibrated_camera: bool = False, tasks: str = "seen", world_config: str | None = None):
    """The tabletop pick-and-place env as demos and evaluation run it. ``split``: the phrasings
    ("train" | "eval", ``sim.instructions.SPLITS``); ``tasks``: which (colour, shape, container)
    combinations are asked for (``sim.instructions.TASK_SPLITS``: demonstrations and the
    in-distribution evaluation "seen", the compositional evaluation "compositional").
    ``success_hold_s`` (None = ``sim.judge.SUCCESS_HOLD_S``): how long the object must stay released
    in the container.
    ``calibrated_camera``: the scene camera stays at its nominal pose (the extrinsics the robot
    description and perception's config give), as the sim bridge keeps it (``calibrated_cameras``);
    False keeps the world's camera-pose randomisation (training data). ``world_config``: the world's
    YAML (None: config/sim/tabletop.yaml; config/sim/tabletop_clutter.yaml has six objects, not four)."""
    os.environ.setdefault("MUJOCO_GL", "egl")  # before anything imports MuJoCo
    import gymnasium as gym

    import embodied_stack.sim.envs  # noqa: F401  (registers the envs)
    from embodied_stack.sim.judge import SUCCESS_HOLD_S
    from embodied_stack.sim.tabletop import TabletopConfig

    success_hold_s = SUCCESS_HOLD_S if success_hold_s is None else success_hold_s
    world = TabletopConfig.from_yaml() if world_config is None else TabletopConfig.from_yaml(world_config)
    if calibrated_camera:
        world.randomization.camera_pose = False
    return gym.make(ENV_ID, obs_mode="scene+wrist", image_size=IMAGE_SIZE, language=language,
                    instruction_split=split, success_hold_s=success_hold_s, world_config=world,
                    task_split=tasks)


def stack_calibrated_cameras(config: str = "config/nodes/sim_bridge.yaml") -> bool:
    """Whether the ``sim_tabletop`` stack's simulator keeps its cameras calibrated (its sim bridge's
    ``calibrated_cameras``): evaluation mirrors it."""
    from embodied_stack.config import load_yaml

    return bool(load_yaml(config)["/**"]["ros__parameters"]["calibrated_cameras"])


def _check_action_space(action_space: str) -> None:
    if action_space not in ACTION_SPACES:
        raise ValueError(f"action_space {action_space!r} unknown; use one of {ACTION_SPACES}")


#: Simulator ground truth stored beside each frame for auxiliary training targets only (never a
#: policy input): where the named object and the named container are, in the arm's base frame (m).
PRIVILEGED = ("privileged.target_position", "privileged.place_position")


def features(action_space: str = "joint_position") -> dict[str, dict]:
    _check_action_space(action_space)
    joint_names = JOINTS if action_space == "joint_position" else [f"d_{j}" for j in JOINTS]
    feats = {"observation.state": {"dtype": "float32", "shape": (STATE_DIM,), "names": [*JOINTS, "gripper"]},
             "action": {"dtype": "float32", "shape": (ACTION_DIM,), "names": [*joint_names, "gripper"]}}
    for key in PRIVILEGED:
        feats[key] = {"dtype": "float32", "shape": (3,), "names": ["x", "y", "z"]}
    for cam in CAMERAS:
        feats[f"observation.images.{cam}"] = {"dtype": "video", "shape": (IMAGE_SIZE, IMAGE_SIZE, 3),
                                              "names": ["height", "width", "channel"]}
    return feats


def privileged(env) -> dict[str, np.ndarray]:
    """Ground-truth positions of the instruction's object and container (m, world = base frame)."""
    u = env.unwrapped
    return {PRIVILEGED[0]: u.world.object_position(u.target_object).astype(np.float32),
            PRIVILEGED[1]: u.world.object_position(u.container).astype(np.float32)}


def oracle_goal(env) -> np.ndarray:
    """(target x, y, place x, y) in m from simulator ground truth: what the goal input holds in the
    training data. Evaluation and the robot use perception's grounding instead (``perception_goal``)."""
    p = privileged(env)
    return np.concatenate([p[PRIVILEGED[0]][:2], p[PRIVILEGED[1]][:2]]).astype(np.float32)


def observation(obs: dict) -> dict[str, np.ndarray]:
    """Env observation -> dataset/policy feature names."""
    out = {"observation.state": np.asarray(obs["state"], dtype=np.float32)}
    for cam in CAMERAS:
        out[f"observation.images.{cam}"] = obs[cam]
    return out


def expert_label(env, native_action: np.ndarray, action_space: str) -> np.ndarray:
    """The expert's env action expressed in ``action_space`` (before the env steps)."""
    if action_space == "native":
        return np.asarray(native_action, dtype=np.float32)
    q = env.unwrapped.joint_targets_after(native_action)
    return np.append(q, np.clip(native_action[5], -1.0, 1.0)).astype(np.float32)


def generate(root: str, episodes: int, seed: int = 0, language: str = "both",
             action_space: str = "joint_position", noise: float = 0.0, policy=None) -> int:
    """Record ``episodes`` expert-labelled episodes (seeds ``seed``, ``seed+1``, ...).

    noise: DART execution noise; each episode executes the expert's joint actions plus
    Gaussian noise of a std drawn from [0, noise] (native action units), while the
    dataset records the expert's clean action. Only successful episodes are kept.

    policy: a loaded ``VLAPolicy`` -> DAgger (Ross et al. 2011): the *policy* drives the arm
    through the node's runner (``vla.rollout``, as in evaluation) and every frame is labelled with
    what the expert would do from that state; the expert's phase machine runs in the shadow of the
    policy and re-plans from the simulator state, so a missed grasp is labelled "open,
    go back above the object". Every episode is kept, failures included: the states the
    policy gets wrong are the ones the next training round needs.
    """
    os.environ.setdefault("MUJOCO_GL", "egl")  # the imports below load MuJoCo: choose its GL backend first
    from embodied_stack.datasets import LeRobotDatasetWriter
    from embodied_stack.sim.experts import make_expert
    from embodied_stack.vla.rollout import deployed_runner_config, policy_predict, rollout
    from embodied_stack.vla.runner import PolicyRunner

    _check_action_space(action_space)
    # episodes run until the object stayed released in the container (evaluation's rule), so the demos
    # show the release and the retreat that follow a placement, not just the moment it lands
    env = make_env("train", language)
    expert = make_expert(env)
    writer = LeRobotDatasetWriter.create(root, fps=FPS, features=features(action_space),
                                         robot_type="so101_sim")
    rng = np.random.default_rng(seed)
    runner, current_goal = None, [None]
    if policy is not None:
        runner = PolicyRunner(policy_predict(policy, lambda: current_goal[0]), deployed_runner_config(policy))
    written, s = 0, seed
    try:
        while written < episodes:
            obs, info = env.reset(seed=s)
            expert.reset()
            s += 1
            sigma = float(rng.uniform(0.0, noise)) if noise > 0 else 0.0
            frames: list[dict] = []

            def label(o: dict, _command=None, frames: list[dict] = frames) -> np.ndarray:
                """Record the frame with the expert's action from this state (its phase machine runs in
                the shadow of whoever drives); returns that action."""
                clean = np.asarray(expert.act(), dtype=np.float32)
                action = expert_label(env, clean, action_space)
                frames.append({**observation(o), **privileged(env), "action": action})
                return clean

            if runner is not None:  # DAgger: the policy drives, through the node's runner
                current_goal[0] = oracle_goal(env) if policy.goal_dim else None
                result = rollout(env, runner, obs, info["instruction"], list(policy.cfg.model.cameras),
                                 on_step=label)
                success, info = result.success, result.info
            else:
                while True:
                    executed = label(obs).copy()
                    if sigma > 0:
                        executed[:5] = np.clip(executed[:5] + rng.normal(0.0, sigma, 5), -1.0, 1.0)
                    obs, _, terminated, truncated, info = env.step(executed)
                    if terminated or truncated:
                        success = bool(info["is_success"])
                        break
            if not success and policy is None:
                continue
            for frame in frames:
                writer.add_frame(frame, task=info["instruction"])
            writer.save_episode()
            written += 1
    finally:
        writer.finalize()
        env.close()
    return written
