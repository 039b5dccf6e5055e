"""Dataset write/read costs: ``python bench/dataset_io.py [--episodes 5 --frames 200 --size 224]``.

Prints one table: add_frame cost (encode included), save_episode cost, MP4 bytes per
frame, full-episode decode cost, cached random access cost and uncached random access
(every access in a different episode, the worst case for shuffled training).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from embodied_stack.datasets import LeRobotDataset, LeRobotDatasetWriter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=5)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", type=int, default=224, help="square image side, px")
    args = ap.parse_args()
    s = args.size
    features = {"observation.state": {"dtype": "float32", "shape": (6,), "names": None},
                "observation.images.scene": {"dtype": "video", "shape": (s, s, 3), "names": None},
                "action": {"dtype": "float32", "shape": (6,), "names": None}}
    rng = np.random.default_rng(0)
    # A moving textured scene (pure noise would not compress like camera images do).
    base = (rng.random((s * 2, s * 2, 3)) * 60 + np.linspace(0, 180, s * 2)[:, None, None]).astype(np.uint8)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        w = LeRobotDatasetWriter.create(root, fps=30, features=features, min_free_mb=1)
        add_t, save_t = [], []
        for ep in range(args.episodes):
            for i in range(args.frames):
                img = base[i % s: i % s + s, ep * 7: ep * 7 + s]
                frame = {"observation.state": rng.random(6, dtype=np.float32),
                         "observation.images.scene": img,
                         "action": rng.random(6, dtype=np.float32)}
                t0 = time.perf_counter()
                w.add_frame(frame, task="bench")
                add_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            w.save_episode()
            save_t.append(time.perf_counter() - t0)
        w.finalize()
        mp4 = sum(p.stat().st_size for p in root.glob("videos/**/*.mp4"))
        n = args.episodes * args.frames
        rows += [("add_frame (encode incl.)", f"{1e3 * np.mean(add_t):.2f} ms",
                  f"p99 {1e3 * np.percentile(add_t, 99):.2f} ms"),
                 ("save_episode", f"{1e3 * np.mean(save_t):.0f} ms", f"{args.frames} frames"),
                 ("mp4 size", f"{mp4 / n / 1024:.1f} KiB/frame", f"raw {s * s * 3 / 1024:.0f} KiB")]
        t0 = time.perf_counter()
        ds = LeRobotDataset(root, video_cache_episodes=1)
        rows.append(("open dataset", f"{1e3 * (time.perf_counter() - t0):.0f} ms", f"{len(ds)} frames"))
        t0 = time.perf_counter()
        ds.episode_video(0, "observation.images.scene")
        dec = time.perf_counter() - t0
        rows.append(("decode one episode", f"{1e3 * dec:.0f} ms", f"{1e3 * dec / args.frames:.2f} ms/frame"))
        idx = rng.integers(0, args.frames, 500)
        t0 = time.perf_counter()
        for i in idx:
            ds[int(i)]
        per_item_us = 1e6 * (time.perf_counter() - t0) / len(idx)
        rows.append(("ds[i], episode cached", f"{per_item_us:.0f} us", "same episode"))
        idx = rng.integers(0, len(ds), 20)
        t0 = time.perf_counter()
        for k, i in enumerate(idx):
            ds[int(ds.episode_frames(k % args.episodes)[int(i) % args.frames])]
        rows.append(("ds[i], cache miss", f"{1e3 * (time.perf_counter() - t0) / len(idx):.0f} ms",
                     "new episode every access"))
    print(f"dataset I/O, {args.episodes} episodes x {args.frames} frames, {s}x{s} RGB, 30 fps, H.264 crf 23")
    print(f"{'operation':28s} {'cost':>18s}  note")
    for name, cost, note in rows:
        print(f"{name:28s} {cost:>18s}  {note}")


if __name__ == "__main__":
    main()
