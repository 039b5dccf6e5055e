"""Tabletop pick-and-place demonstrations from the simulator's scripted experts.

The env (``embodied_stack/TabletopPickPlace-v0``, ``obs_mode="scene+wrist"``) and its
expert (``embodied_stack.sim.experts``) are the simulator's; this module only maps
them onto LeRobotDataset features and records successful episodes through our
writer, one instruction per episode (English and Chinese, the ``"train"`` phrasings;
evaluation uses the held-out ``"eval"`` phrasings and seeds >= 10_000).
"""

from __future__ import annotations

import os

import numpy as np

ENV_ID = "embodied_stack/TabletopPickPlace-v0"
CAMERAS = ("scene", "wrist")
STATE_DIM = 6  # 5 joint positions (rad) + gripper opening (0..1)
ACTION_DIM = 6  # 5 joint-target deltas (x max_joint_delta rad) + absolute gripper (-1..1)
FPS = 25
IMAGE_SIZE = 96


def make_env(split: str = "train", language: str = "both"):
    os.environ.setdefault("MUJOCO_GL", "egl")
    import gymnasium as gym

    import embodied_stack.sim.envs  # noqa: F401  (registers the envs)

    return gym.make(ENV_ID, obs_mode="scene+wrist", image_size=IMAGE_SIZE, language=language,
                    instruction_split=split)


def features() -> dict[str, dict]:
    feats = {"observation.state": {"dtype": "float32", "shape": (STATE_DIM,),
                                   "names": ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex",
                                             "wrist_roll", "gripper"]},
             "action": {"dtype": "float32", "shape": (ACTION_DIM,),
                        "names": ["d_shoulder_pan", "d_shoulder_lift", "d_elbow_flex", "d_wrist_flex",
                                  "d_wrist_roll", "gripper"]}}
    for cam in CAMERAS:
        feats[f"observation.images.{cam}"] = {"dtype": "video", "shape": (IMAGE_SIZE, IMAGE_SIZE, 3),
                                              "names": ["height", "width", "channel"]}
    return feats


def observation(obs: dict) -> dict[str, np.ndarray]:
    """Env observation -> dataset/policy feature names."""
    out = {"observation.state": np.asarray(obs["state"], dtype=np.float32)}
    for cam in CAMERAS:
        out[f"observation.images.{cam}"] = obs[cam]
    return out


def generate(root: str, episodes: int, seed: int = 0, language: str = "both") -> int:
    """Record ``episodes`` successful expert episodes (seeds ``seed``, ``seed+1``, ...; failures skipped)."""
    from embodied_stack.datasets import LeRobotDatasetWriter
    from embodied_stack.sim.experts import make_expert

    env = make_env("train", language)
    expert = make_expert(env)
    writer = LeRobotDatasetWriter.create(root, fps=FPS, features=features(), robot_type="so101_sim")
    written, s = 0, seed
    try:
        while written < episodes:
            obs, info = env.reset(seed=s)
            expert.reset()
            s += 1
            frames, success = [], False
            while True:
                action = np.asarray(expert.act(), dtype=np.float32)
                frames.append({**observation(obs), "action": action})
                obs, _, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    success = bool(info["is_success"])
                    break
            if not success:
                continue
            for frame in frames:
                writer.add_frame(frame, task=info["instruction"])
            writer.save_episode()
            written += 1
    finally:
        writer.finalize()
        env.close()
    return written
