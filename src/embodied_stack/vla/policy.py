"""Running a trained VLA: numpy observations in, actions out, never motion on bad input.

``VLAPolicy.predict_chunk`` is the one inference call (the ROS node, the simulator
evaluation and the latency benchmark all use it). ``TemporalEnsembler`` blends the
overlapping chunks predicted at successive steps (ACT's temporal ensembling), which
smooths the commands and lets inference run asynchronously: a late chunk only
means older predictions carry more weight for a step or two.
"""

from __future__ import annotations

import numpy as np
import torch

from embodied_stack.vla.checkpoint import load_checkpoint
from embodied_stack.vla.language import InstructionEncoder


def centre_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Crop the centre of ``image`` (H, W, C) to the aspect ratio of ``size`` (h, w).

    Why: a pinhole camera (and MuJoCo's) keeps its vertical field of view when the image gets
    wider, so the centre 240x240 of a 320x240 frame is the view a square 96x96 render of the
    same camera shows - the view the policy was trained on. Resizing instead would squash it.
    """
    h, w = image.shape[:2]
    target = size[1] / size[0]
    if abs(w / h - target) < 1e-3:
        return image
    if w / h > target:
        cw = round(h * target)
        x0 = (w - cw) // 2
        return image[:, x0:x0 + cw]
    ch = round(w / target)
    y0 = (h - ch) // 2
    return image[y0:y0 + ch]


class InvalidObservation(ValueError):
    """An observation the policy must not act on (NaN/inf, wrong shape); the robot must hold still."""


class VLAPolicy:
    """A loaded checkpoint plus its instruction encoder.

    Args:
        checkpoint: checkpoint folder (``model.safetensors`` + ``config.json``).
        threads: torch intra-op threads for inference (None keeps torch's setting).
    """

    def __init__(self, checkpoint: str, threads: int | None = None,
                 encoder: InstructionEncoder | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.checkpoint = str(checkpoint)
        self.model, self.cfg, self.meta = load_checkpoint(checkpoint)
        self.encoder = encoder or InstructionEncoder()
        self.chunk_size = self.cfg.model.chunk_size
        self.action_dim = self.cfg.model.action_dim

    def warm_up(self, instruction: str = "warm up") -> None:
        """Load the language model now, not inside the first goal (every policy class has this)."""
        self.encoder.encode(instruction)

    def check_observation(self, images: dict[str, np.ndarray], state: np.ndarray) -> np.ndarray:
        """Validate and return the state as float32; raise InvalidObservation naming the problem."""
        m = self.cfg.model
        state = np.asarray(state, dtype=np.float32)
        if state.shape != (m.state_dim,):
            raise InvalidObservation(f"state has shape {state.shape}, the policy expects ({m.state_dim},)")
        if not np.all(np.isfinite(state)):
            raise InvalidObservation(f"state contains NaN/inf: {state.tolist()}")
        for cam in m.cameras:
            img = images.get(cam)
            if img is None:
                raise InvalidObservation(f"no image for camera {cam!r}; got {sorted(images)}")
            if img.ndim != 3 or img.shape[2] != 3:
                raise InvalidObservation(f"image {cam!r} has shape {img.shape}, expected (H, W, 3)")
            if img.dtype != np.uint8 and not np.all(np.isfinite(img)):
                raise InvalidObservation(f"image {cam!r} contains NaN/inf")
        return state

    @property
    def control_rate_hz(self) -> float | None:
        """The rate the checkpoint's demonstrations were recorded at (its actions are steps of that
        period), or None for a checkpoint saved before the rate was stored."""
        fps = self.meta.get("fps")
        return float(fps) if fps else None

    @property
    def goal_dim(self) -> int:
        """Size of the goal input this policy needs (0 = none), see ModelConfig.goal_dim."""
        return self.cfg.model.goal_dim

    def check_goal(self, goal: np.ndarray | None) -> torch.Tensor | None:
        if not self.goal_dim:
            return None
        if goal is None:
            raise InvalidObservation(f"this policy needs a goal of {self.goal_dim} values (target and place "
                                     "x, y in m, base frame) from perception's grounding; none was given")
        g = np.asarray(goal, dtype=np.float32).reshape(-1)
        if g.shape != (self.goal_dim,) or not np.all(np.isfinite(g)):
            raise InvalidObservation(f"goal must be {self.goal_dim} finite values, "
                                     f"got {np.asarray(goal).tolist()}")
        return torch.from_numpy(g).unsqueeze(0)

    @torch.inference_mode()
    def predict_chunk(self, images: dict[str, np.ndarray], state: np.ndarray, instruction: str,
                      goal: np.ndarray | None = None) -> np.ndarray:
        """Next ``chunk_size`` actions, (K, action_dim) float32 in the dataset's action units.

        images: camera name -> (H, W, 3) uint8 RGB (resized to the model size if needed).
        goal: the grounded target/place positions when the policy has a goal input.
        """
        state = self.check_observation(images, state)
        goal_t = self.check_goal(goal)
        m = self.cfg.model
        tensors = []
        for cam in m.cameras:
            img = torch.from_numpy(np.array(centre_crop(images[cam], m.image_size)))  # a writable copy
            img = img.permute(2, 0, 1).unsqueeze(0)
            img = img.float() / (255.0 if images[cam].dtype == np.uint8 else 1.0)
            if tuple(img.shape[-2:]) != tuple(m.image_size):
                img = torch.nn.functional.interpolate(img, size=tuple(m.image_size), mode="bilinear",
                                                      antialias=True, align_corners=False)
            tensors.append(img.clamp(0, 1))
        lang = torch.from_numpy(self.encoder.encode(instruction)).unsqueeze(0)
        raw = torch.from_numpy(state).unsqueeze(0)
        out = self.model(tensors, self.model.normalise_state(raw), lang, goal=goal_t)
        out = self.model.decode_actions(out, raw)[0].numpy()
        if not np.all(np.isfinite(out)):
            raise InvalidObservation("the model produced NaN/inf actions; refusing to command them")
        return out


class TemporalEnsembler:
    """ACT temporal ensembling: the action for step t is a weighted mean of every chunk
    predicted at steps t-K+1..t, weight exp(-m * age_index) (older predictions first, m=0.01
    as in ACT). ``reset()`` at episode start or after a stop."""

    def __init__(self, chunk_size: int, action_dim: int, m: float = 0.01) -> None:
        self.k = chunk_size
        self.m = m
        self.action_dim = action_dim
        self.reset()

    def reset(self) -> None:
        self._chunks: list[tuple[int, np.ndarray]] = []

    def add(self, step: int, chunk: np.ndarray) -> None:
        self._chunks.append((step, np.asarray(chunk, dtype=np.float32)))
        self._chunks = [(s, c) for s, c in self._chunks if s > step - self.k]

    def action(self, step: int) -> np.ndarray | None:
        """Blended action for ``step``, or None when no chunk covers it (caller must not move)."""
        preds = [c[step - s] for s, c in self._chunks if 0 <= step - s < len(c)]
        if not preds:
            return None
        w = np.exp(-self.m * np.arange(len(preds)))
        return (np.stack(preds) * (w / w.sum())[:, None]).sum(0).astype(np.float32)
