"""Recorder core cost per frame: ``python bench/dataset_recorder.py``.

Feeds one camera (at each size), 6-D joint states and actions at 30 fps of simulated
time through :class:`embodied_stack.recording.Recorder` (alignment, encoding, stats) and
prints the CPU time per recorded frame and the share of one core that 30 fps needs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from embodied_stack.recording import Recorder, RecorderConfig, StreamSpec

FPS = 30


def run(size: tuple[int, int], seconds: float = 4.0) -> tuple[float, float, str]:
    h, w = size
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 180, w + 64)[None, :, None]
    base = (rng.random((h + 64, w + 64, 3)) * 60 + ramp).astype(np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RecorderConfig(root=str(Path(tmp) / "ds"), fps=FPS, min_free_mb=1, delay_s=0.0,
                             default_task="bench",
                             streams=[StreamSpec("observation.images.cam", "video", (h, w, 3)),
                                      StreamSpec("observation.state", "float32", (6,)),
                                      StreamSpec("action", "float32", (6,))])
        rec = Recorder(cfg)
        rec.start(0.0)
        n = int(seconds * FPS)
        t0 = time.process_time()
        for k in range(n):
            t = k / FPS
            rec.push("observation.images.cam", t, base[k % 64: k % 64 + h, k % 64: k % 64 + w])
            rec.push("observation.state", t, rng.random(6, dtype=np.float32))
            rec.push("action", t, rng.random(6, dtype=np.float32))
            rec.tick(t)
        loop = time.process_time() - t0
        t0 = time.process_time()
        report = rec.stop(n / FPS)
        save = time.process_time() - t0
        rec.close()
    return 1e3 * loop / n, 1e3 * save, report.summary()


def main() -> None:
    print(f"recorder core, 1 camera + state + action at {FPS} fps (CPU time, all threads)")
    print(f"{'image':>10s} {'per frame':>10s} {'core share':>11s} {'save':>9s}")
    for size in ((96, 128), (224, 224), (480, 640)):
        per_frame, save_ms, _ = run(size)
        share = per_frame * FPS / 10  # ms per frame x frames per s / 1000 ms x 100 %
        print(f"{size[1]:>4d}x{size[0]:<5d} {per_frame:8.2f} ms {share:9.1f} % {save_ms:7.0f} ms")


if __name__ == "__main__":
    main()
