"""Shared helpers for dataset tests: a tiny feature set and a frame generator.

(A plain module, not conftest.py: the crash test's child process imports it too.)
"""

from __future__ import annotations

import numpy as np

H, W = 48, 64
FEATURES = {
    "observation.state": {"dtype": "float32", "shape": (4,), "names": ["j0", "j1", "j2", "gripper"]},
    "observation.images.scene": {"dtype": "video", "shape": (H, W, 3),
                                 "names": ["height", "width", "channels"]},
    "action": {"dtype": "float32", "shape": (4,), "names": ["j0", "j1", "j2", "gripper"]},
}


def make_frame(episode: int, i: int) -> dict[str, np.ndarray]:
    """A frame whose values encode (episode, i), so reads can be checked exactly."""
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = (20 * episode) % 256
    img[..., 1] = (7 * i) % 256
    img[:, : (i % W), 2] = 255
    state = np.array([episode, i, 0.5 * i, -1.0], np.float32)
    return {"observation.state": state, "observation.images.scene": img, "action": state + 1}


def features_copy() -> dict:
    return {k: dict(v) for k, v in FEATURES.items()}
