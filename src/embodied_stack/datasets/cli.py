"""``embodied-stack dataset info|visualize`` and ``embodied-stack replay`` for LeRobotDataset v3.0 folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from embodied_stack.cli import CommandRegistry


def _configure_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="dataset folder (holds meta/info.json)")


def _run_info(args: argparse.Namespace) -> int:
    from embodied_stack.datasets import DatasetError, LeRobotDataset
    from embodied_stack.datasets.inspect import summary

    try:
        print(summary(LeRobotDataset(args.root, video_cache_episodes=1)))
    except DatasetError as e:
        print(f"error: {e}")
        return 1
    return 0


def _configure_visualize(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="dataset folder")
    p.add_argument("--out", default=None, help="output folder (default: <root>/../<name>_viz)")
    p.add_argument("--episodes", type=int, nargs="*", default=None,
                   help="episode indices (default: first 10)")
    p.add_argument("--frames", type=int, default=8, help="frames per episode in the contact sheet")


def _run_visualize(args: argparse.Namespace) -> int:
    from embodied_stack.datasets import DatasetError, LeRobotDataset
    from embodied_stack.datasets.inspect import contact_sheet, plot_svg

    try:
        ds = LeRobotDataset(args.root, video_cache_episodes=1)
    except DatasetError as e:
        print(f"error: {e}")
        return 1
    root = Path(args.root).resolve()
    out = Path(args.out) if args.out else root.parent / f"{root.name}_viz"
    episodes = args.episodes if args.episodes is not None else ds.episodes[:10]
    numeric = [k for k, ft in ds.meta.features.items()
               if ft["dtype"] != "video" and k not in ("timestamp", "frame_index", "episode_index", "index",
                                                       "task_index")]
    written = []
    for ep in episodes:
        for key in numeric:
            written.append(plot_svg(ds, key, ep, out / f"episode_{ep:03d}_{key}.svg"))
    for key in ds.meta.video_keys:
        written.append(contact_sheet(ds, key, out / f"contact_sheet_{key}.png", episodes, args.frames))
    for path in written:
        print(path)
    return 0


def _configure_replay(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="dataset folder")
    p.add_argument("--episode", type=int, default=0)
    p.add_argument("--world", default="tabletop", choices=["tabletop"], help="simulated world to replay in")
    p.add_argument("--seed", type=int, default=0, help="world reset seed (object placement)")
    p.add_argument("--no-start-pose", action="store_true",
                   help="do not move the arm to the episode's first recorded state first")


def _run_replay(args: argparse.Namespace) -> int:
    import math

    from embodied_stack.datasets import DatasetError, LeRobotDataset
    from embodied_stack.datasets.replay import action_layout, replay_episode
    from embodied_stack.sim.tabletop import TabletopWorld

    world = TabletopWorld()
    try:
        ds = LeRobotDataset(args.root, episodes=[args.episode], video_cache_episodes=1)
        world.reset(seed=args.seed)
        arm = world.arm
        if not args.no_start_pose and "observation.state" in ds.meta.features:
            joints, grip = action_layout(ds, arm, "observation.state")
            s0 = ds.episode_column(args.episode, "observation.state")[0].reshape(-1)
            arm.set_pose(s0[joints], float(s0[grip]) if grip is not None else arm.gripper_opening)

        def advance(period: float) -> None:
            for _ in range(max(1, math.floor(period / world.control_dt + 0.5))):
                world.step()

        print(replay_episode(ds, args.episode, arm, advance).summary())
    except DatasetError as e:
        print(f"error: {e}")
        return 1
    finally:
        world.close()
    return 0


def register(registry: CommandRegistry) -> None:
    registry.add(("replay",), configure=_configure_replay, run=_run_replay,
                 help="play an episode's actions on the simulated arm through its safety filter")
    registry.add(("dataset", "info"), configure=_configure_info, run=_run_info,
                 help="summary of a LeRobotDataset v3.0: counts, features, tasks, flagged episodes")
    registry.add(("dataset", "visualize"), configure=_configure_visualize, run=_run_visualize,
                 help="plots of states/actions over time (SVG) and a contact sheet of camera frames (PNG)")
