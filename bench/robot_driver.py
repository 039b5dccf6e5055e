"""robot_driver: read/write loop rate and jitter per driver, e-stop -> stopped and stale -> stopped latency.

    python bench/robot_driver.py [--seconds 5] [--trials 100] [--skip-ros] [--only PART]

1. Loop (ROS-free, in process): the driver's own loop -- ``DriverCore.cycle`` paced by the
   same ``RealTimePacer`` as the node -- on a ``BusServoArm`` talking to each byte-exact bus
   emulator (Feetech STS3215 x6, Dynamixel X x6) through the vendor SDK, at 100 and 200 Hz,
   while another thread streams a 25 Hz trajectory like a policy; and on the Go2 (its SDK bridge
   process and the emulated dog) at 50 and 100 Hz with a 20 Hz ``cmd_vel`` stream. Printed: achieved rate,
   cycle period p50/p99 and its deviation from nominal (jitter), and cycle work time p50/p99.
   Baseline in the same run: the same loop with no command stream (read only).
2. E-stop -> motion stopped (through ROS): the real ``robot_driver`` node in a subprocess on the
   Feetech emulator follows a 2 s trajectory (its goal changes every loop cycle); this process
   publishes ``/estop`` true mid-motion and times the last Goal_Position change the emulated
   servo receives after it (a 2 kHz poll of the emulator's control table), then resets through
   ``~/estop`` and repeats ``--trials`` times.
3. Stale cmd_vel -> stop sent to the device (through ROS): the real ``robot_driver`` node on the
   emulated Unitree Go2 (the SDK bridge process on Cyclone DDS, the dog's sport service on its own
   domain); this process streams ``cmd_vel`` at 20 Hz, then stops; the dog's request log times the
   StopMove's arrival (CLOCK_MONOTONIC, one clock for every process). ``stale -> hold`` is that time
   minus the watchdog's ``command_timeout_s``. Baseline in the same run, alternating trials: the stream
   ends with an explicit zero ``cmd_vel`` (the same path minus the watchdog) -> zero Move at the dog.
4. (``--only stale_sim``) Stale cmd_vel -> base physically stopped: the sim bridge (the same driver
   node) in the indoor world; the time from the last command until /odom shows the base turning
   slower than 0.05 rad/s, so it includes the simulated body's deceleration. Baseline in the same
   run: an explicit zero ``cmd_vel``.
Numbers are wall-clock on this machine (2 cores shared with whatever else runs).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from embodied_stack import paths  # noqa: E402
from embodied_stack.common.ros_domain import claim_domain_id  # noqa: E402
from embodied_stack.driver.core import DriverConfig, DriverCore, TrajectoryCommand  # noqa: E402
from embodied_stack.motors.bus import MotorCalibration, save_calibration  # noqa: E402
from embodied_stack.robots import load_description  # noqa: E402
from embodied_stack.robots.bus_servo.arm import make_dynamixel_arm, make_feetech_arm  # noqa: E402
from embodied_stack.sim_bridge.pacer import RealTimePacer  # noqa: E402
from emulators.dynamixel_bus import DynamixelBusEmulator  # noqa: E402
from emulators.feetech_bus import FeetechBusEmulator  # noqa: E402
from emulators.go2_sport import Go2SportPeer, claim_unitree_domain  # noqa: E402

DXL_MODELS = {1: "xl430-w250", 2: "xl430-w250", 3: "xl330-m288", 4: "xl330-m288", 5: "xl330-m288",
              6: "xl330-m288"}


def _pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


def _description(tmp: Path, robot: str, backend: str, port: str, options: dict) -> str:
    data = yaml.safe_load(paths.resolve(f"config/robots/{robot}.yaml").read_text())
    section = data["backends"][backend]
    cal = {n: MotorCalibration(id=m["id"]) for n, m in section["motors"].items()}
    cal["gripper"].range_min, cal["gripper"].range_max = 1000, 3000
    save_calibration(tmp / f"{robot}_cal.yaml", cal)
    section.update(port=port, calibration=str(tmp / f"{robot}_cal.yaml"), **options)
    path = tmp / f"{robot}_bench.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _timed_loop(core: DriverCore, rate_hz: float, seconds: float) -> tuple[list[float], list[float]]:
    """The node's loop: ``core.cycle()`` paced by its RealTimePacer; (cycle start times, cycle work), s."""
    pacer = RealTimePacer(1.0 / rate_hz, 1.0)
    starts, work = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        starts.append(t)
        core.cycle()
        work.append(time.monotonic() - t)
        pacer.wait()
    return starts, work


def _loop_stats(core: DriverCore, rate_hz: float, starts: list[float], work: list[float]) -> dict:
    periods = np.diff(starts) * 1e3
    nominal = 1e3 / rate_hz
    work_ms = np.asarray(work) * 1e3
    return {"rate": (len(starts) - 1) / (starts[-1] - starts[0]), "p50": _pct(periods, 50),
            "p99": _pct(periods, 99), "jitter_p99": _pct(np.abs(periods - nominal), 99),
            "work_p50": _pct(work_ms, 50), "work_p99": _pct(work_ms, 99),
            "faults": core.counters.device_faults}


def loop_once(kind: str, rate_hz: float, seconds: float, stream: bool, tmp: Path) -> dict:
    if kind == "feetech":
        emu = FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")).start()
        desc = load_description(_description(tmp, "so101", "feetech", emu.port, {}))
        arm = make_feetech_arm(desc, desc.backend("feetech"))
    else:
        emu = DynamixelBusEmulator(DXL_MODELS, positions=dict.fromkeys(DXL_MODELS, 2048)).start()
        desc = load_description(_description(tmp, "koch", "dynamixel", emu.port, {}))
        arm = make_dynamixel_arm(desc, desc.backend("dynamixel"))
    core = DriverCore(arm, None, DriverConfig())
    core.connect()
    core.activate()
    running = True

    def streamer() -> None:
        t0 = time.time()
        while running:
            q = [0.3 * math.sin(2 * (time.time() - t0))] + [0.0] * 4
            core.submit_trajectory(TrajectoryCommand(desc.joint_names, [(0.0, q)], None))
            time.sleep(0.04)

    thread = threading.Thread(target=streamer, daemon=True)
    if stream:
        thread.start()
    starts, work = _timed_loop(core, rate_hz, seconds)
    running = False
    core.disconnect()
    emu.stop()
    return _loop_stats(core, rate_hz, starts, work)


def _go2_description(tmp: Path, domain: int) -> str:
    """The shipped Go2 description pointed at the emulated dog (loopback, a claimed Cyclone domain)."""
    data = yaml.safe_load(paths.resolve("config/robots/go2.yaml").read_text())
    data["kinematics"] = str(paths.resolve(data["kinematics"]))
    data["backends"]["unitree"].update(network_interface="lo", domain_id=domain, stand_on_connect=True,
                                       connect_timeout_s=30.0)
    path = tmp / "go2_bench.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def loop_once_go2(rate_hz: float, seconds: float, stream: bool, tmp: Path) -> dict:
    """The same loop on the Go2 driver: its SDK bridge process (Cyclone DDS) and the emulated dog."""
    from embodied_stack.hardware.robot import BaseVelocity
    from embodied_stack.robots import make_robot

    domain, lock = claim_unitree_domain()
    dog = Go2SportPeer(domain).start()
    robot = make_robot(load_description(_go2_description(tmp, domain)), "unitree")
    core = DriverCore(None, robot, DriverConfig())
    core.connect()
    core.activate()
    running = True

    def streamer() -> None:  # a 20 Hz teleop turning in place
        while running:
            core.submit_twist(BaseVelocity(0.0, 0.0, 0.5))
            time.sleep(0.05)

    thread = threading.Thread(target=streamer, daemon=True)
    if stream:
        thread.start()
    starts, work = _timed_loop(core, rate_hz, seconds)
    running = False
    if stream:
        thread.join(timeout=1)
    core.disconnect()
    dog.close()
    lock.close()
    return _loop_stats(core, rate_hz, starts, work)


def bench_loops(seconds: float) -> None:
    print("\n== read/write loop (DriverCore + BusServoArm / Go2Robot vs its emulator, vendor SDK) ==")
    print(f"{'driver':<10} {'target Hz':>9} {'stream':>7} {'achieved Hz':>11} {'period p50/p99 ms':>18} "
          f"{'|jitter| p99 ms':>15} {'cycle work p50/p99 ms':>22} {'faults':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("feetech", "dynamixel"):
            for rate in (100.0, 200.0):
                for stream in (False, True):
                    _loop_row(kind, rate, "25 Hz" if stream else "none",
                              loop_once(kind, rate, seconds, stream, Path(tmp)))
        # the Go2 bridge forwards sport-mode states at up to backends.unitree.state_rate_hz (100 Hz)
        for rate in (50.0, 100.0):
            for stream in (False, True):
                _loop_row("go2", rate, "20 Hz" if stream else "none", loop_once_go2(rate, seconds, stream,
                                                                                   Path(tmp)))


def _loop_row(kind: str, rate: float, stream: str, r: dict) -> None:
    print(f"{kind:<10} {rate:>9.0f} {stream:>7} {r['rate']:>11.1f} "
          f"{r['p50']:>8.2f} / {r['p99']:<7.2f} {r['jitter_p99']:>15.2f} "
          f"{r['work_p50']:>10.2f} / {r['work_p99']:<9.2f} {r['faults']:>6}")


def _ros_env() -> dict[str, str]:
    domain, lock = claim_domain_id()
    bench_ros_env.lock = lock  # keep the claim for this process's lifetime
    return {**os.environ, "ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
            "PYTHONUNBUFFERED": "1", "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}


def bench_ros_env() -> None: ...


def bench_estop(trials: int) -> None:
    env = _ros_env()
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    import rclpy
    from builtin_interfaces.msg import Duration
    from std_msgs.msg import Bool
    from std_srvs.srv import SetBool
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from embodied_stack.ros import qos

    tmp = Path(tempfile.mkdtemp())
    emu = FeetechBusEmulator(dict.fromkeys(range(1, 7), "sts3215")).start()
    desc = _description(tmp, "so101", "feetech", emu.port, {"reply_timeout_ms": 100.0})
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.driver.node", "--ros-args",
                             "-p", f"robot:={desc}", "-p", "backend:=feetech", "-p", "rate_hz:=100.0"],
                            env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    changes: list[float] = []
    polling = True

    def poll() -> None:
        last = None
        while polling:
            g = emu.register(1, "Goal_Position")
            if g != last:
                changes.append(time.monotonic())
                last = g
            time.sleep(0.0005)

    threading.Thread(target=poll, daemon=True).start()
    rclpy.init()
    node = rclpy.create_node("bench_estop")
    traj = node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", qos.COMMAND)
    estop = node.create_publisher(Bool, "/estop", qos.LATCHED)
    reset = node.create_client(SetBool, "/robot_driver/estop")
    names = list(load_description("so101").joint_names)

    def ramp(start: float, end: float, seconds: float) -> JointTrajectory:
        """One trajectory the driver interpolates every cycle: the goal changes at the loop rate
        until the e-stop takes effect, so the last change after the press times it."""
        msg = JointTrajectory(joint_names=names)
        msg.points = [JointTrajectoryPoint(positions=[end] + [0.0] * 4,
                                           time_from_start=Duration(sec=int(seconds),
                                                                    nanosec=int(seconds % 1 * 1e9)))]
        del start
        return msg

    latencies = []
    try:
        if not reset.wait_for_service(timeout_sec=30):
            raise SystemExit("robot_driver did not come up")
        for trial in range(trials):
            fut = reset.call_async(SetBool.Request(data=False))
            rclpy.spin_until_future_complete(node, fut, timeout_sec=5)
            estop.publish(Bool(data=False))
            target = 0.5 if trial % 2 == 0 else -0.5
            traj.publish(ramp(0.0, target, 2.0))
            moving_since = len(changes)
            end = time.monotonic() + 5.0
            while len(changes) < moving_since + 10 and time.monotonic() < end:  # it is moving
                rclpy.spin_once(node, timeout_sec=0.01)
            pressed = time.monotonic()
            estop.publish(Bool(data=True))
            end = time.monotonic() + 0.5
            while time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.02)
            # the goal changes every cycle while following, so the e-stop took effect within one loop
            # period after the last change: that bound is the latency (resolution: one period)
            last = changes[-1]
            latencies.append((max(last - pressed, 0.0) + 0.010) * 1e3)
    finally:
        polling = False
        node.destroy_node()
        rclpy.try_shutdown()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        emu.stop()
    print(f"\n== e-stop -> motion stopped (robot_driver node on the Feetech emulator, 100 Hz loop, "
          f"{trials} trials) ==")
    print(f"/estop -> servo goal frozen (upper bound: last goal change after the press + one 10 ms loop "
          f"period; the driver changes the goal every cycle while following): "
          f"p50 {_pct(latencies, 50):.1f} ms, p99 {_pct(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms (n={len(latencies)})")


def bench_stale_go2(trials: int) -> None:
    """Stale cmd_vel -> the device told to stop, through the robot_driver node on the emulated Go2."""
    env = _ros_env()
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import Twist

    from embodied_stack.ros import qos

    timeout, rate = 0.1, 50.0
    tmp = Path(tempfile.mkdtemp())
    domain, lock = claim_unitree_domain()
    dog = Go2SportPeer(domain).start()
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.driver.node", "--ros-args",
                             "-p", f"robot:={_go2_description(tmp, domain)}", "-p", "backend:=unitree",
                             "-p", f"rate_hz:={rate}", "-p", f"command_timeout_s:={timeout}",
                             "-p", "diagnostics_period_s:=0.2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    rclpy.init()
    node = rclpy.create_node("bench_stale_go2")
    ready: list[bool] = []
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: ready.extend(
        True for st in m.status if st.name == "robot_driver: driver" and st.message == "active"), qos.EVENTS)
    cmd = node.create_publisher(Twist, "/cmd_vel", qos.COMMAND)
    stale: list[float] = []
    explicit: list[float] = []
    try:
        end = time.monotonic() + 60
        while not (ready and cmd.get_subscription_count()) and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
        if not ready:
            raise SystemExit("robot_driver on the emulated Go2 did not come up")
        twist = Twist()
        twist.angular.z = 0.5
        for trial in range(2 * trials):
            stream_end = time.monotonic() + 0.3
            last = 0.0
            while time.monotonic() < stream_end:
                cmd.publish(twist)
                last = time.monotonic()
                rclpy.spin_once(node, timeout_sec=0.05)
            baseline = bool(trial % 2)
            if baseline:  # an explicit zero: the same path to the dog minus the watchdog
                cmd.publish(Twist())
                last = time.monotonic()
            end = time.monotonic() + 1.5
            stopped = None
            while time.monotonic() < end and stopped is None:
                rclpy.spin_once(node, timeout_sec=0.01)
                stopped = next((r["t"] for r in dog.requests(since=last) if (
                    r["name"] == "StopMove" or (r["name"] == "Move" and baseline
                                                and '"z": 0.0' in r["param"]))), None)
            if stopped is not None:
                (explicit if baseline else stale).append((stopped - last) * 1e3)
            # let the dog settle into balance stand before the next trial (StopMove after a zero Move)
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.02)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        dog.close()
        lock.close()
    hold = [v - timeout * 1e3 for v in stale]
    print(f"\n== stale cmd_vel -> stop sent to the device (robot_driver node on the emulated Go2, "
          f"{rate:.0f} Hz loop, watchdog {timeout * 1e3:.0f} ms, {trials} trials each; the dog's request "
          "log times arrival) ==")
    print(f"last cmd_vel published -> StopMove at the dog: p50 {_pct(stale, 50):.1f} ms, "
          f"p99 {_pct(stale, 99):.1f} ms (n={len(stale)}, {trials - len(stale)} missed)")
    print(f"stale (watchdog expiry) -> StopMove at the dog (stale -> hold): p50 {_pct(hold, 50):.1f} ms, "
          f"p99 {_pct(hold, 99):.1f} ms, max {max(hold, default=float('nan')):.1f} ms")
    print(f"baseline, explicit zero cmd_vel -> zero Move at the dog: p50 {_pct(explicit, 50):.1f} ms, "
          f"p99 {_pct(explicit, 99):.1f} ms (n={len(explicit)}; transport + one loop cycle + SDK bridge)")


def bench_stale(trials: int) -> None:
    env = _ros_env()
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    import rclpy
    from geometry_msgs.msg import Twist
    from nav_msgs.msg import Odometry

    from embodied_stack.ros import qos

    timeout = 0.1
    tmp = Path(tempfile.mkdtemp())
    stack = tmp / "indoor.yaml"
    stack.write_text(textwrap.dedent(f"""
        environment: {{MUJOCO_GL: egl}}
        nodes:
          - name: sim_bridge
            executable: sim_bridge
            params_files: [config/nodes/robot_driver.yaml, config/nodes/sim_bridge.yaml]
            parameters: {{world: indoor, camera_rate_hz: 1.0, ground_truth_rate_hz: 0.0,
                         command_timeout_s: {timeout}}}
    """))
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.cli", "launch", str(stack)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    rclpy.init()
    node = rclpy.create_node("bench_stale")
    odom: list[tuple[float, float]] = []
    node.create_subscription(Odometry, "/odom",
                             lambda m: odom.append((time.monotonic(), m.twist.twist.angular.z)), qos.SENSOR)
    cmd = node.create_publisher(Twist, "/cmd_vel", qos.COMMAND)
    stale: list[float] = []
    explicit: list[float] = []
    try:
        end = time.monotonic() + 60
        while not odom and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
        twist = Twist()
        twist.angular.z = 0.5  # turn in place: no walls to hit however many trials
        for trial in range(2 * trials):
            stream_end = time.monotonic() + 0.5
            last = 0.0
            while time.monotonic() < stream_end:
                cmd.publish(twist)
                last = time.monotonic()
                rclpy.spin_once(node, timeout_sec=0.05)
            if trial % 2:  # baseline: an explicit stop, i.e. the same path minus the watchdog
                cmd.publish(Twist())
                last = time.monotonic()
            seen = len(odom)
            end = time.monotonic() + 1.5
            stopped = None
            while time.monotonic() < end and stopped is None:
                rclpy.spin_once(node, timeout_sec=0.01)
                stopped = next((t for t, wz in odom[seen:] if abs(wz) < 0.05), None)
            if stopped is not None:
                (explicit if trial % 2 else stale).append((stopped - last) * 1e3)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    print(f"\n== stale cmd_vel -> base stopped (sim bridge = robot_driver, indoor world, "
          f"{trials} trials each) ==")
    print(f"commands stop (stale)      -> |wz| < 0.05 rad/s on /odom: p50 {_pct(stale, 50):.1f} ms, "
          f"p99 {_pct(stale, 99):.1f} ms (n={len(stale)})")
    print(f"explicit zero cmd_vel     -> |wz| < 0.05 rad/s on /odom: p50 {_pct(explicit, 50):.1f} ms, "
          f"p99 {_pct(explicit, 99):.1f} ms (n={len(explicit)}; velocity servo + transport, the baseline)")
    print(f"watchdog's own share (stale - baseline - {timeout * 1e3:.0f} ms timeout): "
          f"p50 {_pct(stale, 50) - _pct(explicit, 50) - timeout * 1e3:.1f} ms, "
          f"p99 {_pct(stale, 99) - _pct(explicit, 99) - timeout * 1e3:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="per loop configuration")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--skip-ros", action="store_true", help="only the in-process loop benchmark")
    parser.add_argument("--only", choices=["loops", "estop", "stale", "stale_sim"], help="run one part")
    args = parser.parse_args()
    if args.only in (None, "loops"):
        bench_loops(args.seconds)
    if not args.skip_ros and args.only in (None, "estop"):
        bench_estop(args.trials)
    if not args.skip_ros and args.only in (None, "stale"):
        bench_stale_go2(args.trials)
    if not args.skip_ros and args.only in (None, "stale_sim"):
        bench_stale(args.trials)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
