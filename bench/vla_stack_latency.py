"""Camera->command latency of the VLA policy on the ``sim_tabletop`` stack's own streams.

    python bench/vla_stack_latency.py [--seconds 12] [--seed 0]

Why: ``bench/vla_ros_latency.py`` feeds the node 96x96 images with nothing else running; the stack
publishes 320x240 RGB + depth from MuJoCo while perception, the executive and the policy share the same
two cores. Here the whole stack runs (``embodied-stack launch config/stacks/sim_tabletop.yaml``, its own
ROS_DOMAIN_ID), the instruction goes to /instruction as a user's would (executive -> perception grounding
-> the policy's skill), and while the skill runs the bench reads what the nodes measure themselves on
/diagnostics: the policy's camera->command latency (command publish time - capture stamp of the newest
image behind it: rendering, transport, decoding, waiting for the worker, inference, waiting for the
tick), its inference time and command rate; perception's input latency; the sim bridge's loop. The
system load average is printed beside them (the stack is CPU-bound on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from embodied_stack.bringup.runner import dds_environment
from embodied_stack.common.ros_domain import claim_domain_id
from embodied_stack.config import load_yaml

STACK = "config/stacks/sim_tabletop.yaml"
# seed 0's scene has a red cube (tests/executive/test_executive_sim.py)
INSTRUCTION = "put the red cube in the bowl"


def _values(status) -> dict[str, str]:
    return {kv.key: kv.value for kv in status.values}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=12.0, help="measured skill time (after 2 s warm-up)")
    ap.add_argument("--seed", type=int, default=0, help="sim_bridge seed (the scene)")
    args = ap.parse_args()
    domain, _lock = claim_domain_id()
    os.environ.update({"ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
                       "PYTHONUNBUFFERED": "1", "RCUTILS_COLORIZED_OUTPUT": "0", **dds_environment("shm"),
                       "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")})
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from embodied_stack_interfaces.msg import DetectedObjectArray
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String

    from embodied_stack.ros import qos

    stack = load_yaml(STACK)
    for spec in stack["nodes"]:
        if spec["name"] == "sim_bridge":
            spec.setdefault("parameters", {})["seed"] = args.seed
    tmp = tempfile.TemporaryDirectory()
    stack_file = Path(tmp.name) / "sim_tabletop.yaml"
    stack_file.write_text(yaml.safe_dump(stack, allow_unicode=True), encoding="utf-8")
    cmd = [sys.executable, "-m", "embodied_stack.cli", "launch", str(stack_file)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    rclpy.init()
    node = rclpy.create_node("vla_stack_latency_bench")
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    diag: dict[str, dict[str, str]] = {}
    status: list[dict] = []
    objects: list[int] = []
    node.create_subscription(DiagnosticArray, "/diagnostics",
                             lambda m: diag.update({s.name: _values(s) for s in m.status}), qos.EVENTS)
    node.create_subscription(String, "/executive/status", lambda m: status.append(json.loads(m.data)),
                             qos.LATCHED)
    node.create_subscription(DetectedObjectArray, "/perception/objects",
                             lambda m: objects.append(sum(o.visible for o in m.objects)), qos.EVENTS)
    instruction = node.create_publisher(String, "/instruction", qos.EVENTS)

    def spin(pred, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not pred() and time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError("the stack exited:\n" + "".join(lines[-40:]))
            ex.spin_once(timeout_sec=0.05)
        return pred()

    def running() -> bool:
        return any(s["instruction"] == INSTRUCTION and s["state"] == "running" for s in status)

    try:
        if not spin(lambda: bool(objects) and objects[-1] >= 4 and bool(status), 180):
            raise RuntimeError("the stack did not come up:\n" + "".join(lines[-40:]))
        instruction.publish(String(data=INSTRUCTION))
        if not spin(running, 30):
            raise RuntimeError(f"the instruction did not start: {status[-3:]}\n" + "".join(lines[-40:]))
        spin(lambda: False, 2.0 + args.seconds)  # the policy's meter keeps the last 250 commands (~10 s)
        load = os.getloadavg()[0]
        snapshot = {k: dict(v) for k, v in diag.items()}
    finally:
        ex.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        tmp.cleanup()

    vla = next((v for k, v in snapshot.items() if k.endswith(": command out")), {})
    print(f"\nsim_tabletop stack, seed {args.seed}, '{INSTRUCTION}' running, {args.seconds:.0f} s "
          f"(load average {load:.2f} on {os.cpu_count()} cores)")
    print(f"{'stream':44s} {'p50 ms':>8} {'p99 ms':>8} {'rate Hz':>8}")
    print(f"{'vla_policy camera->command':44s} {vla.get('latency_p50_ms', '-'):>8} "
          f"{vla.get('latency_p99_ms', '-'):>8} {vla.get('rate_hz', '-'):>8}")
    print(f"{'vla_policy inference':44s} {vla.get('infer_p50_ms', '-'):>8} {vla.get('infer_p99_ms', '-'):>8}")
    print(f"vla_policy mode {vla.get('mode', '-')}, chunk-driven ticks {vla.get('chunk_driven_ticks', '-')} "
          f"of {vla.get('count', '-')} commands")
    for name, v in sorted(snapshot.items()):
        if name.endswith(": command out") or "latency_p50_ms" not in v:
            continue
        print(f"{name[:44]:44s} {v.get('latency_p50_ms', '-'):>8} {v.get('latency_p99_ms', '-'):>8} "
              f"{v.get('rate_hz', '-'):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
