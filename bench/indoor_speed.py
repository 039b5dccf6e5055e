"""Indoor world speed: world steps per second (50 Hz control, LiDAR at 10 Hz) by pedestrian count, and
with the forward RGB-D camera rendered every step.

    python bench/indoor_speed.py [--steps 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("XDG_CACHE_HOME", "/tmp/xdg-cache")

from embodied_stack.hardware import BaseVelocity  # noqa: E402
from embodied_stack.sim.indoor import IndoorConfig, IndoorWorld  # noqa: E402


def measure(pedestrians: int, camera: tuple[int, int] | None, steps: int) -> float:
    config = IndoorConfig.from_yaml()
    config.pedestrians.count = pedestrians
    if camera:
        config.camera.width, config.camera.height = camera
    world = IndoorWorld(config)
    robot = world.robot
    start = time.perf_counter()
    for i in range(steps):
        robot.send_base_velocity(BaseVelocity(vx=0.3, wz=0.4 if (i // 100) % 2 else -0.4))
        world.step()
        if camera:
            robot.read_cameras()
    rate = steps / (time.perf_counter() - start)
    world.close()
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = [(n, None) for n in (0, 4, 8)] + [(4, (128, 128)), (4, (320, 240)), (4, (640, 480))]
    print(f"{'pedestrians':>11}  {'rgb-d camera':>12}  {'steps/s':>8}  {'x real time':>11}")
    for n, camera in rows:
        steps = args.steps if camera is None else max(args.steps // 5, 50)
        rate = measure(n, camera, steps)
        cam = f"{camera[0]}x{camera[1]}" if camera else "off"
        print(f"{n:>11}  {cam:>12}  {rate:>8.0f}  {rate * 0.02:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
