"""Camera->command latency of the VLA policy node through ROS topics, timer vs chunk-driven.

    python bench/vla_ros_latency.py [--seconds 10] [--checkpoint checkpoints/vla_tabletop] [--camera-hz 30]

Why: the requirement is "camera->command latency through ROS topics <= 30 ms p50", and
bench/vla_latency.py only times the forward pass. Here the real ``vla_policy`` node runs
as a subprocess (config/vla/vla_policy_node.yaml, shipped Fast DDS profile
config/dds/fastdds_shm.xml, its own free ROS_DOMAIN_ID, localhost discovery); this
process plays the sim bridge - scene + wrist images (96x96 rgb8) and /joint_states at
``--camera-hz``, header stamp = publish time - sends an ExecuteSkill goal and listens to
/arm_controller/joint_trajectory and /diagnostics.

Latency is the node's own figure from /diagnostics: wall time when a command is published
- header stamp of the newest image behind the chunk it came from (same machine, same
clock), so it includes image transport, decoding, waiting for the worker, inference and
waiting for the control tick. The node runs twice, ``chunk_driven`` off (fixed 25 Hz timer:
a fresh chunk waits 0..40 ms for the next tick) and on (it ticks as soon as a chunk from a
new frame lands, re-phasing the timer): the first is the baseline for the second. Command
rate and command transport (receipt - command header stamp) are measured here.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from embodied_stack import paths
from embodied_stack.bringup.runner import dds_environment
from embodied_stack.common.ros_domain import claim_domain_id

PARAMS_FILE = "config/vla/vla_policy_node.yaml"
IMAGE_TOPICS = ("/camera/color/image_raw", "/wrist_camera/color/image_raw")
IMAGE_SIZE = 96  # what the sim bridge publishes for the tabletop cameras
WARMUP_S = 1.5  # after the first command: let the node's meters fill with steady-state ticks


@dataclass
class RunResult:
    mode: str
    diag: dict[str, str] = field(default_factory=dict)
    command_times: list[float] = field(default_factory=list)  # monotonic receipt times
    transport_ms: list[float] = field(default_factory=list)

    def rate_hz(self) -> float:
        t = self.command_times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0


def _stamp_now(header) -> None:
    now = time.time()
    header.stamp.sec, header.stamp.nanosec = int(now), int((now % 1) * 1e9)


def publish_inputs(node, hz: float, stop: threading.Event) -> None:
    """Camera images + joint states at ``hz``, stamped at publish time (like the sim bridge)."""
    from sensor_msgs.msg import Image, JointState

    from embodied_stack.ros import qos
    from embodied_stack.sim import so_arm

    rng = np.random.default_rng(0)
    pubs = [node.create_publisher(Image, t, qos.SENSOR) for t in IMAGE_TOPICS]
    images = [Image(height=IMAGE_SIZE, width=IMAGE_SIZE, encoding="rgb8", step=IMAGE_SIZE * 3,
                    data=rng.integers(0, 255, IMAGE_SIZE * IMAGE_SIZE * 3, dtype=np.uint8).tobytes())
              for _ in pubs]
    js_pub = node.create_publisher(JointState, "/joint_states", qos.SENSOR)
    js = JointState(name=[*so_arm.JOINT_NAMES, "gripper"], position=[*map(float, so_arm.HOME_QPOS), 0.5])
    t0, n = time.monotonic(), 0
    while not stop.is_set():
        for pub, image in zip(pubs, images, strict=True):
            _stamp_now(image.header)
            pub.publish(image)
        _stamp_now(js.header)
        js_pub.publish(js)
        n += 1
        time.sleep(max(0.0, t0 + n / hz - time.monotonic()))


def start_node(checkpoint: str, chunk_driven: bool, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "embodied_stack.vla.node", "--ros-args",
           "--params-file", str(paths.resolve(PARAMS_FILE)), "-p", f"checkpoint:={checkpoint}",
           "-p", f"chunk_driven:={str(chunk_driven).lower()}", "-p", "diagnostics_period_s:=0.5"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def stop_node(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def run_mode(checkpoint: str, chunk_driven: bool, seconds: float, camera_hz: float,
             env: dict[str, str]) -> RunResult:
    """Start the node, drive it for ``seconds`` after warm-up, return what it and we measured."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray, KeyValue
    from embodied_stack_interfaces.action import ExecuteSkill
    from rclpy.action import ActionClient
    from rclpy.executors import SingleThreadedExecutor
    from trajectory_msgs.msg import JointTrajectory

    from embodied_stack.ros import qos
    from embodied_stack.ros.time import to_sec

    res = RunResult("chunk_driven" if chunk_driven else "timer (fixed 25 Hz)")
    proc = start_node(checkpoint, chunk_driven, env)
    node = rclpy.create_node(f"vla_ros_latency_bench_{int(chunk_driven)}")
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    measuring = [False]

    def on_command(msg: JointTrajectory) -> None:
        if measuring[0]:
            res.command_times.append(time.monotonic())
            res.transport_ms.append((time.time() - to_sec(msg.header.stamp)) * 1e3)

    def on_diag(msg: DiagnosticArray) -> None:
        for st in msg.status:
            if st.name == "vla_policy: command out" and measuring[0]:
                res.diag = {kv.key: kv.value for kv in st.values}

    node.create_subscription(JointTrajectory, "/arm_controller/joint_trajectory", on_command, qos.COMMAND)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, qos.EVENTS)
    client = ActionClient(node, ExecuteSkill, "/vla_policy/execute_skill")
    stop = threading.Event()
    feeder = threading.Thread(target=publish_inputs, args=(node, camera_hz, stop), daemon=True)

    def spin_until(pred, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not pred() and time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"the node exited ({proc.returncode}):\n{stop_node(proc)}")
            ex.spin_once(timeout_sec=0.05)
        return pred()

    try:
        if not spin_until(client.server_is_ready, 90):
            raise RuntimeError(f"vla_policy's execute_skill never appeared:\n{stop_node(proc)}")
        feeder.start()
        # the target/place positions a planner would pass (policies with a goal input need them;
        # others ignore them), so the bench needs no perception node
        where = [KeyValue(key="target_position", value="0.18,-0.05"),
                 KeyValue(key="place_position", value="0.15,0.12")]
        goal = client.send_goal_async(ExecuteSkill.Goal(
            skill="pick_place", instruction="put the red cube in the bowl", arguments=where,
            timeout_s=float(seconds + 30)))
        if not spin_until(lambda: goal.done() and goal.result().accepted, 10):
            raise RuntimeError("the skill goal was not accepted")
        measuring[0] = True
        spin_until(lambda: bool(res.command_times), 10)
        spin_until(lambda: False, WARMUP_S)
        res.command_times.clear()
        res.transport_ms.clear()
        spin_until(lambda: False, seconds)
        measuring[0] = False
        cancel = goal.result().cancel_goal_async()
        spin_until(cancel.done, 5)
    finally:
        stop.set()
        if feeder.is_alive():
            feeder.join(timeout=2)
        ex.shutdown()
        node.destroy_node()
        stop_node(proc)
    return res


def _f(d: dict[str, str], key: str) -> float:
    try:
        return float(d.get(key, "nan"))
    except ValueError:
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured time per mode (after warm-up)")
    ap.add_argument("--checkpoint", default="checkpoints/vla_tabletop", help="VLA checkpoint folder")
    ap.add_argument("--camera-hz", type=float, default=30.0, help="image + joint state rate")
    args = ap.parse_args()
    checkpoint = str(paths.resolve(args.checkpoint))
    domain, _lock = claim_domain_id()
    os.environ.update({"ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
                       "PYTHONUNBUFFERED": "1", "RCUTILS_COLORIZED_OUTPUT": "0", **dds_environment("shm")})
    env = dict(os.environ)  # the node and this process: same domain, same DDS profile
    import rclpy

    rclpy.init()
    try:
        results = [run_mode(checkpoint, cd, args.seconds, args.camera_hz, env) for cd in (False, True)]
    finally:
        rclpy.try_shutdown()
    print(f"\nVLA node camera->command latency through ROS ({checkpoint}; images 2x "
          f"{IMAGE_SIZE}x{IMAGE_SIZE} rgb8 + joint states @ {args.camera_hz:g} Hz; Fast DDS shm profile, "
          f"domain {domain}; "
          f"{args.seconds:g} s per mode; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"{'mode':22s} {'cam->cmd p50 ms':>15s} {'p99 ms':>8s} {'cmd Hz':>7s} {'early ticks':>11s} "
          f"{'infer p50 ms':>12s} {'infer p99 ms':>12s} {'cmd transport p50 ms':>20s} {'<=30 ms p50':>11s}")
    for r in results:
        p50 = _f(r.diag, "latency_p50_ms")
        transport = float(np.percentile(r.transport_ms, 50)) if r.transport_ms else float("nan")
        print(f"{r.mode:22s} {p50:15.1f} {_f(r.diag, 'latency_p99_ms'):8.1f} {r.rate_hz():7.1f} "
              f"{r.diag.get('chunk_driven_ticks', '?'):>11s} {_f(r.diag, 'infer_p50_ms'):12.2f} "
              f"{_f(r.diag, 'infer_p99_ms'):12.2f} {transport:20.2f} {'yes' if p50 <= 30.0 else 'NO':>11s}")
    base, fast = (_f(r.diag, "latency_p50_ms") for r in results)
    print(f"chunk_driven vs timer: p50 {fast:.1f} vs {base:.1f} ms ({base - fast:+.1f} ms saved). "
          "Latency and inference: the node's /diagnostics (its last <= 250 commands); rate and transport: "
          "measured here.")


if __name__ == "__main__":
    main()
