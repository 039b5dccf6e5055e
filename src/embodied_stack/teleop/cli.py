"""``embodied-stack teleop sim``: drive the simulated tabletop arm and record demonstrations."""

from __future__ import annotations

import argparse

from embodied_stack.cli import CommandRegistry


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="web", choices=["web", "keyboard", "gamepad", "spacemouse"],
                   help="web: browser console (phone or laptop); keyboard: this terminal")
    p.add_argument("--device-path", default=None,
                   help="/dev/input/eventN or /dev/hidrawN for gamepad/spacemouse")
    p.add_argument("--root", default=None, help="record into this LeRobotDataset folder (omit: no recording)")
    p.add_argument("--resume", action="store_true", help="append to the dataset at --root")
    p.add_argument("--task", default="", help="task instruction of the episodes (the console can change it)")
    p.add_argument("--host", default="127.0.0.1",
                   help="console bind address (non-local binds need the token)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--seed", type=int, default=None, help="world reset seed")
    p.add_argument("--camera-size", type=int, nargs=2, default=(224, 224), metavar=("W", "H"))


def _run(args: argparse.Namespace) -> int:
    from embodied_stack.datasets import DatasetError
    from embodied_stack.recording import Recorder
    from embodied_stack.sim.tabletop import TabletopConfig, TabletopWorld
    from embodied_stack.teleop import make_device
    from embodied_stack.teleop.session import SimTeleopSession, recorder_config
    from embodied_stack.teleop.web import ConsoleServer, WebTeleop

    cfg = TabletopConfig.from_yaml()
    cfg.camera_depth = False
    cfg.camera_width, cfg.camera_height = args.camera_size
    world = TabletopWorld(cfg)
    world.reset(seed=args.seed)
    recorder = None
    if args.root:
        try:
            recorder = Recorder(recorder_config(args.root, world, ["scene", "wrist"], resume=args.resume,
                                                default_task=args.task))
        except DatasetError as e:
            print(f"error: {e}")
            return 1
    if args.device == "web":
        device = WebTeleop()
    else:
        device = make_device(args.device, **({"path": args.device_path} if args.device_path else {}))
    session = SimTeleopSession(world, device, recorder, cameras=["scene", "wrist"])
    server = None
    if args.device == "web":
        server = ConsoleServer(device, session.status, session.latest_frame, session.cameras, host=args.host,
                               port=args.port, on_reset=session.reset_estop).start()
        print(f"console: {server.url}")
    else:
        print("keys: w/s a/d r/f move, q/e yaw, o/c gripper, Enter record, Backspace stop, n next, "
              "z re-record, Del discard, x e-stop, Ctrl-C quit")
    try:
        session.run()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()
        session.stop()
        device.disconnect()
        world.close()
    for report in session.reports:
        print(report.summary())
    return 0


def register(registry: CommandRegistry) -> None:
    registry.add(("teleop", "sim"), configure=_configure, run=_run,
                 help="teleoperate the simulated arm (browser console, keyboard, gamepad, SpaceMouse) "
                      "and record")
