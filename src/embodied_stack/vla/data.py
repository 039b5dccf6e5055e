"""Demonstrations in memory, sampled as (observation, instruction, next-K-actions) batches.

Why load everything into RAM: training samples random frames; decoding H.264 per
random frame would cost more than the network's forward pass. Datasets are decoded
once, episode by episode, through ``embodied_stack.datasets.LeRobotDataset`` (the
same reader every tool uses), and kept as uint8 (50 demos x 10 Meta-World tasks at
96x96 ~ 1.4 GB).

Sampling is a pure function of a ``torch.Generator``; the trainer seeds one per step
from (seed, step), so a resumed run draws exactly the batches the uninterrupted run
would have drawn (tested: same loss continuation).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from embodied_stack.vla.config import DataConfig, ModelConfig
from embodied_stack.vla.language import InstructionEncoder, paraphrase


@dataclass
class Batch:
    images: list[torch.Tensor]  # per camera (B, 3, H, W) float in [0, 1]
    state: torch.Tensor  # (B, state_dim) raw units
    language: torch.Tensor  # (B, language_dim)
    actions: torch.Tensor  # (B, K, action_dim) raw units
    pad: torch.Tensor  # (B, K) bool, True where the chunk ran past the episode end
    aux: torch.Tensor | None = None  # (B, aux_dim) raw units, privileged training targets
    goal: torch.Tensor | None = None  # (B, goal_dim) raw units, the skill's goal input


class DemoBuffer:
    """Frames of one or more LeRobotDatasets: images per camera, state, action, instruction id."""

    def __init__(self, images: dict[str, np.ndarray], state: np.ndarray, action: np.ndarray,
                 episode_end: np.ndarray, task_id: np.ndarray, tasks: list[str],
                 aux: np.ndarray | None = None, goal: np.ndarray | None = None,
                 fps: int | None = None) -> None:
        self.images = images  # camera -> (N, H, W, 3) uint8
        self.state = state.astype(np.float32)  # (N, S)
        self.action = action.astype(np.float32)  # (N, A)
        self.episode_end = episode_end.astype(np.int64)  # (N,) exclusive end index of the frame's episode
        self.task_id = task_id.astype(np.int64)  # (N,) index into tasks
        self.tasks = tasks
        self.aux = None if aux is None else aux.astype(np.float32)  # (N, aux_dim) or None
        self.goal = None if goal is None else goal.astype(np.float32)  # (N, goal_dim) or None
        #: the rate the demonstrations were recorded at, Hz: the policy's control rate (checkpoint "fps")
        self.fps = fps

    def __len__(self) -> int:
        return len(self.action)

    @classmethod
    def from_datasets(cls, roots: list[str], model: ModelConfig, aux_features: list[str] | None = None,
                      goal_features: list[str] | None = None) -> DemoBuffer:
        """Decode datasets written by ``LeRobotDatasetWriter``; features must match ``model``;
        ``aux_features`` are concatenated per frame into the auxiliary target (``model.aux_dim``);
        ``goal_features`` ("name" or "name[a:b]") at each episode's first frame into the goal input."""
        from embodied_stack import paths
        from embodied_stack.datasets import LeRobotDataset

        if not roots:
            raise ValueError("no datasets given; set data.datasets in the config to LeRobotDataset folders")
        images: dict[str, list[np.ndarray]] = {cam: [] for cam in model.cameras}
        state, action, ends, task_ids, aux, goal = [], [], [], [], [], []
        aux_features = list(aux_features or [])
        goal_specs = [parse_feature_slice(g) for g in goal_features or []]
        tasks: list[str] = []
        offset = 0
        fps: int | None = None
        for root in roots:
            ds = LeRobotDataset(paths.resolve(root), video_cache_episodes=1)
            if fps is not None and ds.meta.fps != fps:
                raise ValueError(f"{root} was recorded at {ds.meta.fps} fps, the datasets before it at "
                                 f"{fps}: a policy has one control rate; train on datasets of one fps")
            fps = ds.meta.fps
            feats = ds.meta.features
            for key, dim in (("observation.state", model.state_dim), ("action", model.action_dim)):
                if key not in feats or tuple(feats[key]["shape"]) != (dim,):
                    raise ValueError(f"{root}: feature {key!r} must have shape ({dim},) to match the model "
                                     "config, "
                                     f"dataset has {feats.get(key, {}).get('shape')}")
            for cam in model.cameras:
                if f"observation.images.{cam}" not in feats:
                    raise ValueError(f"{root} has no camera {cam!r}; it has {ds.meta.video_keys}")
            missing = [k for k in aux_features if k not in feats]
            if missing:
                raise ValueError(f"{root} lacks the auxiliary feature(s) {missing} (data.aux_features); "
                                 "record the dataset again with a generator that writes them")
            missing = [k for k, _ in goal_specs if k not in feats]
            if missing:
                raise ValueError(f"{root} lacks the goal feature(s) {missing} (data.goal_features)")
            goal_dim = sum(len(range(*sl.indices(int(np.prod(feats[k]["shape"]))))) for k, sl in goal_specs)
            if goal_dim != model.goal_dim:
                raise ValueError(f"data.goal_features {goal_features} have {goal_dim} values, "
                                 f"model.goal_dim is {model.goal_dim}")
            aux_dim = sum(int(np.prod(feats[k]["shape"])) for k in aux_features)
            if aux_dim != model.aux_dim:
                raise ValueError(f"data.aux_features {aux_features} have {aux_dim} values per frame, "
                                 f"model.aux_dim is {model.aux_dim}")
            for ep in ds.episodes:
                idx = ds.episode_frames(ep)
                frames = [ds[i] for i in idx]  # the episode's video is decoded once (cached)
                task = frames[0]["task"]
                if task not in tasks:
                    tasks.append(task)
                for cam in model.cameras:
                    video = ds.episode_video(ep, f"observation.images.{cam}")
                    images[cam].append(_resize(video, model.image_size))
                state.append(np.stack([f["observation.state"] for f in frames]))
                action.append(np.stack([f["action"] for f in frames]))
                if goal_specs:
                    first = np.concatenate([np.ravel(frames[0][k])[sl] for k, sl in goal_specs])
                    goal.append(np.repeat(first[None], len(frames), axis=0))
                if aux_features:
                    aux.append(np.stack([np.concatenate([np.ravel(f[k]) for k in aux_features])
                                         for f in frames]))
                offset += len(idx)
                ends.append(np.full(len(idx), offset))
                task_ids.append(np.full(len(idx), tasks.index(task)))
        return cls({c: np.concatenate(v) for c, v in images.items()}, np.concatenate(state),
                   np.concatenate(action), np.concatenate(ends), np.concatenate(task_ids), tasks,
                   aux=np.concatenate(aux) if aux_features else None,
                   goal=np.concatenate(goal) if goal_specs else None, fps=fps)

    def stats(self, model: ModelConfig | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Mean/std of the state and of the actions *as the network predicts them*: with
        ``model.relative_dims`` those dims are (action[t+k] - state[t]) over every chunk offset k."""
        action = self.action
        r = model.relative_dims if model is not None else 0
        if r:
            idx = np.arange(len(self))
            parts = []
            for k in range(model.chunk_size):
                step = np.minimum(idx + k, self.episode_end - 1)
                a = self.action[step].copy()
                a[:, :r] -= self.state[:, :r]
                parts.append(a)
            action = np.concatenate(parts)
        out = {"observation.state": {"mean": self.state.mean(0), "std": self.state.std(0)},
               "action": {"mean": action.mean(0), "std": action.std(0)}}
        if self.aux is not None:
            out["aux"] = {"mean": self.aux.mean(0), "std": self.aux.std(0)}
        if self.goal is not None:
            out["goal"] = {"mean": self.goal.mean(0), "std": self.goal.std(0)}
        return out


def parse_feature_slice(spec: str) -> tuple[str, slice]:
    """"name" -> (name, all values); "name[a:b]" -> (name, slice(a, b))."""
    if spec.endswith("]") and "[" in spec:
        name, _, rng = spec[:-1].partition("[")
        try:
            lo, hi = (int(v) if v else None for v in rng.split(":"))
        except ValueError as exc:
            raise ValueError(f"feature slice {spec!r} must look like 'name[0:2]'") from exc
        return name, slice(lo, hi)
    return spec, slice(None)


def _noisy_goal(buf: DemoBuffer, idx: np.ndarray, data: DataConfig, gen: torch.Generator,
                augment: bool) -> torch.Tensor | None:
    if buf.goal is None:
        return None
    goal = torch.from_numpy(buf.goal[idx])
    if augment and data.goal_noise > 0:
        goal = goal + torch.randn(goal.shape, generator=gen) * data.goal_noise
    return goal


def _resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frames.shape[1:3] == tuple(size):
        return frames
    t = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    t = F.interpolate(t, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    return t.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


class InstructionBank:
    """Embeddings of every task instruction and ``n`` paraphrases of each, computed once."""

    def __init__(self, tasks: list[str], encoder: InstructionEncoder, paraphrases: int,
                 seed: int = 0) -> None:
        rng = random.Random(seed)
        self.variants: list[torch.Tensor] = []
        for task in tasks:
            texts = [task] + [paraphrase(task, rng) for _ in range(paraphrases)]
            self.variants.append(torch.from_numpy(np.stack([encoder.encode(t) for t in texts])))

    def all_embeddings(self) -> torch.Tensor:
        """Every instruction and paraphrase embedding, (N, language_dim): the language statistics."""
        return torch.cat(self.variants)

    def sample(self, task_ids: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        out = []
        for t in task_ids.tolist():
            v = self.variants[t]
            out.append(v[int(torch.randint(len(v), (1,), generator=gen))])
        return torch.stack(out)


def augment_images(images: torch.Tensor, cfg: DataConfig, gen: torch.Generator) -> torch.Tensor:
    """Random shift (replicate-pad + crop) and colour jitter on (B, 3, H, W) floats in [0, 1]."""
    b, _, h, w = images.shape
    if cfg.shift_px > 0:
        p = cfg.shift_px
        padded = F.pad(images, (p, p, p, p), mode="replicate")
        dx = torch.randint(0, 2 * p + 1, (b,), generator=gen).tolist()
        dy = torch.randint(0, 2 * p + 1, (b,), generator=gen).tolist()
        # per-sample slices: ~20x cheaper than one fancy-indexed gather at batch 64
        images = torch.stack([padded[i, :, y:y + h, x:x + w]
                              for i, (x, y) in enumerate(zip(dx, dy, strict=True))])
    if cfg.color_jitter > 0:
        s = cfg.color_jitter
        bright = 1 + (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * s
        contrast = 1 + (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * s
        sat = 1 + (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * s
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        images = (images - mean) * contrast + mean
        grey = images.mean(dim=1, keepdim=True)
        images = (images - grey) * sat + grey
        images = images * bright
    return images.clamp(0, 1)


def sample_batch(buf: DemoBuffer, bank: InstructionBank, model: ModelConfig, data: DataConfig,
                 batch_size: int, gen: torch.Generator, augment: bool = True) -> Batch:
    """Random frames with their next ``chunk_size`` actions (padded past the episode end)."""
    idx = torch.randint(len(buf), (batch_size,), generator=gen).numpy()
    k = model.chunk_size
    steps = idx[:, None] + np.arange(k)[None, :]
    ends = buf.episode_end[idx][:, None]
    pad = steps >= ends
    steps = np.minimum(steps, ends - 1)  # ACT: repeat the last action past the end, masked in the loss
    images = []
    for cam in model.cameras:
        img = torch.from_numpy(buf.images[cam][idx]).permute(0, 3, 1, 2).float() / 255.0
        images.append(augment_images(img, data, gen) if augment else img)
    return Batch(images=images,
                 state=torch.from_numpy(buf.state[idx]),
                 language=bank.sample(torch.from_numpy(buf.task_id[idx]), gen) if augment
                 else torch.stack([bank.variants[t][0] for t in buf.task_id[idx].tolist()]),
                 actions=torch.from_numpy(buf.action[steps]),
                 pad=torch.from_numpy(pad),
                 aux=torch.from_numpy(buf.aux[idx]) if buf.aux is not None else None,
                 goal=_noisy_goal(buf, idx, data, gen, augment))
