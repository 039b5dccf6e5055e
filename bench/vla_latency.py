"""VLA inference latency per chunk at batch 1 and the control rate it supports, on this CPU.

    python bench/vla_latency.py [--checkpoint checkpoints/vla_tabletop] [--config config/vla/tabletop.yaml]

Measures ``VLAPolicy.predict_chunk`` end to end (numpy images + state + instruction
in, actions out; the instruction embedding is cached after the first call, as in
the node) with 1 and 2 torch threads. Control rate: with inference every control
step (temporal ensembling) the rate is 1/p99; with chunks executed asynchronously a
new chunk is needed only every K steps, so the model sustains K/p99 and control runs
at whatever rate the robot asks, as long as one chunk outlasts one inference.
Without a checkpoint it builds a randomly initialised model from the config (the
latency depends on sizes, not on weights).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from embodied_stack import paths
from embodied_stack.vla.checkpoint import save_checkpoint
from embodied_stack.vla.config import load_config
from embodied_stack.vla.model import VLANet
from embodied_stack.vla.policy import VLAPolicy


def measure(policy: VLAPolicy, threads: int, n: int) -> np.ndarray:
    torch.set_num_threads(threads)
    m = policy.cfg.model
    rng = np.random.default_rng(0)
    images = {c: rng.integers(0, 255, (*m.image_size, 3), dtype=np.uint8) for c in m.cameras}
    state = np.zeros(m.state_dim, np.float32)
    text = "put the red cube in the bowl"
    goal = np.array([0.18, -0.05, 0.15, 0.12], np.float32)[: m.goal_dim] if m.goal_dim else None
    for _ in range(10):
        policy.predict_chunk(images, state, text, goal)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        policy.predict_chunk(images, state, text, goal)
        times.append(time.perf_counter() - t)
    return np.array(times) * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="checkpoint folder (default: checkpoints/vla_tabletop if present)")
    ap.add_argument("--config", default="config/vla/tabletop.yaml", help="used when there is no checkpoint")
    ap.add_argument("-n", type=int, default=200, help="timed calls per setting")
    args = ap.parse_args()
    ckpt = args.checkpoint
    default = paths.checkpoints_dir() / "vla_tabletop"
    if ckpt is None and (default / "model.safetensors").is_file():
        ckpt = str(default)
    tmp = None
    if ckpt is None:
        cfg = load_config(args.config)
        tmp = tempfile.TemporaryDirectory()
        ckpt = str(save_checkpoint(tmp.name, VLANet(cfg.model), cfg, tasks=[]))
    policy = VLAPolicy(ckpt)
    m = policy.cfg.model
    params = sum(p.numel() for p in policy.model.parameters()) / 1e6
    print(f"model: {ckpt}  ({params:.2f} M params, {len(m.cameras)} camera(s) "
          f"{m.image_size[0]}x{m.image_size[1]}, "
          f"chunk K={m.chunk_size}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'threads':>7} {'p50 ms':>8} {'p99 ms':>8} {'Hz (infer every step)':>22} "
          f"{'Hz (async chunks)':>18}")
    for threads in (1, 2):
        ms = measure(policy, threads, args.n)
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(f"{threads:>7} {p50:8.2f} {p99:8.2f} {1000 / p99:22.1f} {1000 * m.chunk_size / p99:18.1f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
