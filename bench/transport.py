"""Transport benchmark: how fast and how lossless are our topics between processes?

Two streams, each between a publisher process and a subscriber process (Fast DDS
reads its XML profile once per process, so each configuration gets fresh ones):
  - image: 640x480 rgb8 at 30 Hz (reliable and best-effort);
  - small: std_msgs/Header published as fast as possible.
For Fast DDS's default profile and the shipped one (config/dds/fastdds_shm.xml,
16 MB shared-memory segment), side by side. Latency = receive time - stamp
(same machine clock). Loss = 1 - received / sent.

    python bench/transport.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from embodied_stack.bringup.runner import dds_environment

STREAMS = {
    "image 640x480 rgb8 @30Hz": ("image", 30.0),
    "small Header @max": ("small", 0.0),
}


def _make_qos(reliable: bool):
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT)


def publisher(kind: str, rate: float, seconds: float, reliable: bool) -> None:
    import rclpy
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    rclpy.init()
    node = rclpy.create_node("bench_pub")
    msg_type = Image if kind == "image" else Header
    pub = node.create_publisher(msg_type, "bench_topic", _make_qos(reliable))
    end = time.monotonic() + 20
    while pub.get_subscription_count() == 0 and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(0.5)  # let discovery settle both ways
    image = Image(height=480, width=640, encoding="rgb8", step=640 * 3)
    image.data = np.random.default_rng(0).integers(0, 255, 640 * 480 * 3, dtype=np.uint8).tobytes()
    sent = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        now = time.time()
        header = Header(frame_id=str(sent))
        header.stamp.sec, header.stamp.nanosec = int(now), int((now % 1) * 1e9)
        if kind == "image":
            image.header = header
            pub.publish(image)
        else:
            pub.publish(header)
        sent += 1
        if rate > 0:
            next_t = t0 + sent / rate
            time.sleep(max(0.0, next_t - time.monotonic()))
    time.sleep(1.0)
    print(json.dumps({"sent": sent}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


def subscriber(kind: str, seconds: float, reliable: bool) -> None:
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    rclpy.init()
    node = rclpy.create_node("bench_sub")
    latencies: list[float] = []

    def on_msg(msg) -> None:
        header = msg.header if kind == "image" else msg
        latencies.append(time.time() - (header.stamp.sec + header.stamp.nanosec * 1e-9))

    node.create_subscription(Image if kind == "image" else Header, "bench_topic", on_msg, _make_qos(reliable))
    from rclpy.executors import SingleThreadedExecutor

    ex = SingleThreadedExecutor()
    ex.add_node(node)
    end = time.monotonic() + seconds + 25
    try:
        while time.monotonic() < end:
            ex.spin_once(timeout_sec=0.1)
            if os.path.exists(os.environ["BENCH_DONE_FILE"]):
                ex.spin_once(timeout_sec=0.5)
                break
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    print(json.dumps({"latencies": latencies}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


def run_pair(kind: str, rate: float, seconds: float, reliable: bool, profile: str, domain: int) -> dict:
    import tempfile

    done = os.path.join(tempfile.mkdtemp(), "done")
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
           "BENCH_DONE_FILE": done, "PYTHONUNBUFFERED": "1"}
    env.pop("FASTRTPS_DEFAULT_PROFILES_FILE", None)
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    env.update(dds_environment(profile))
    args = [kind, str(rate), str(seconds), "1" if reliable else "0"]
    sub = subprocess.Popen([sys.executable, __file__, "--role", "sub", *args], env=env,
                           stdout=subprocess.PIPE, text=True)
    pub = subprocess.Popen([sys.executable, __file__, "--role", "pub", *args], env=env,
                           stdout=subprocess.PIPE, text=True)
    pub_out, _ = pub.communicate(timeout=seconds + 60)
    open(done, "w").close()
    sub_out, _ = sub.communicate(timeout=60)
    sent = json.loads(pub_out.strip().splitlines()[-1])["sent"]
    lat = np.array(json.loads(sub_out.strip().splitlines()[-1])["latencies"]) * 1e3
    return {"sent": sent, "received": len(lat),
            "loss": 1 - len(lat) / sent if sent else float("nan"),
            "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
            "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
            "rate": len(lat) / seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0, help="publishing time per configuration")
    p.add_argument("--domain", type=int, default=int(os.environ.get("ROS_DOMAIN_ID", "91")))
    p.add_argument("--role", choices=["sub", "pub"], help=argparse.SUPPRESS)
    p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.role:
        kind, rate, seconds, reliable = a.rest[0], float(a.rest[1]), float(a.rest[2]), a.rest[3] == "1"
        (publisher(kind, rate, seconds, reliable) if a.role == "pub" else subscriber(kind, seconds, reliable))
        return
    rows = []
    for stream, (kind, rate) in STREAMS.items():
        for reliable in ((True, False) if kind == "image" else (True,)):
            for profile in ("default", "shm"):
                r = run_pair(kind, rate, a.seconds, reliable, profile, a.domain)
                rows.append((stream, "reliable" if reliable else "best-effort", profile, r))
    print(f"\nTransport between two processes, {a.seconds:.0f} s per row (Fast DDS, localhost)")
    print(f"{'stream':28s} {'qos':12s} {'profile':8s} {'sent':>7s} {'recv':>7s} {'loss':>7s} "
          f"{'p50 ms':>8s} {'p99 ms':>8s} {'recv/s':>8s}")
    for stream, qos_name, profile, r in rows:
        print(f"{stream:28s} {qos_name:12s} {profile:8s} {r['sent']:7d} {r['received']:7d} {r['loss']:7.1%} "
              f"{r['p50']:8.2f} {r['p99']:8.2f} {r['rate']:8.0f}")
    base = {(s, q): r for s, q, prof, r in rows if prof == "default"}
    for s, q, prof, r in rows:
        if prof == "shm" and base[(s, q)]["p50"] > 0:
            print(f"shm vs default, {s} {q}: p50 latency x{r['p50'] / base[(s, q)]['p50']:.2f}")


if __name__ == "__main__":
    main()
