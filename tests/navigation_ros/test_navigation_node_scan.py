"""The navigation node gives its planner the scan the planner declares (``Planner.scan_input``): with the
DWA, a body the LiDAR sees straight ahead that perception has not confirmed as a person yet keeps the
robot from driving at it; once the scan is clear, the same goal drives straight on.

The navigation node runs in its own process on the real map; the test plays the base (odometry), the
LiDAR and perception (an empty people list: nobody is tracked yet), and sends the goal on /goal_pose.
"""

from __future__ import annotations

import math
import signal

import numpy as np
from embodied_stack_interfaces.msg import TrackedPersonArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import LaserScan

from embodied_stack.ros import qos
from ros_testing import RosHarness, start_node_process, stop_process

START = (-1.5, -1.0, math.pi)  # a corridor of the indoor map, facing -x
GOAL = (-3.8, -1.0)
BEAMS = 360
BODY_RANGE_M = 1.2  # the untracked body: this far straight ahead, 16 deg wide


def _scan(body: bool) -> LaserScan:
    msg = LaserScan()
    msg.header.frame_id = "laser"
    msg.angle_min, msg.angle_increment = -math.pi, 2 * math.pi / BEAMS
    msg.angle_max = msg.angle_min + msg.angle_increment * (BEAMS - 1)
    msg.range_min, msg.range_max = 0.1, 12.0
    angles = msg.angle_min + msg.angle_increment * np.arange(BEAMS)
    ranges = np.full(BEAMS, math.inf)
    if body:
        ranges[np.abs(angles) <= math.radians(8)] = BODY_RANGE_M
    msg.ranges = ranges.astype(np.float32).tolist()
    return msg


def test_the_dwa_in_the_node_reads_the_scan_for_people_not_tracked_yet():
    node = start_node_process("embodied_stack.navigation.node", "--params-file",  # the test's base stays put:
                              "config/nodes/navigation.yaml", "-p", "progress.time_s:=60.0")  # no recoveries
    h = RosHarness("navigation_scan_test")
    commands: list[Twist] = []
    body = [True]
    try:
        n = h.node
        odom_pub = n.create_publisher(Odometry, "/odom", qos.SENSOR)
        scan_pub = n.create_publisher(LaserScan, "/scan", qos.SENSOR)
        people_pub = n.create_publisher(TrackedPersonArray, "/perception/people", qos.EVENTS)
        goal_pub = n.create_publisher(PoseStamped, "/goal_pose", qos.EVENTS)
        n.create_subscription(Twist, "/cmd_vel", commands.append, qos.COMMAND)

        def publish_inputs() -> None:
            stamp = n.get_clock().now().to_msg()
            odom = Odometry()
            odom.header.frame_id, odom.header.stamp, odom.child_frame_id = "odom", stamp, "base_link"
            odom.pose.pose.position.x, odom.pose.pose.position.y = START[0], START[1]
            odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = math.sin(START[2] / 2), \
                math.cos(START[2] / 2)
            odom_pub.publish(odom)
            scan = _scan(body[0])
            scan.header.stamp = stamp
            scan_pub.publish(scan)
            people = TrackedPersonArray()
            people.header.frame_id, people.header.stamp = "odom", stamp
            people_pub.publish(people)

        n.create_timer(0.05, publish_inputs)
        up = lambda: goal_pub.get_subscription_count() > 0 and odom_pub.get_subscription_count() > 0  # noqa: E731
        assert h.spin_until(up, 60), "the navigation node did not come up"
        goal = PoseStamped()
        goal.header.frame_id = "map"
        goal.pose.position.x, goal.pose.position.y = GOAL
        goal.pose.orientation.z, goal.pose.orientation.w = 1.0, 0.0  # facing -x
        goal_pub.publish(goal)
        assert h.spin_until(lambda: len(commands) >= 40, 20), "no cmd_vel for the goal"
        ahead = [c.linear.x for c in commands[10:]]  # after the first half second of acceleration
        assert max(ahead) <= 0.15, f"drove at the untracked body: forward speeds {np.round(ahead, 2)}"

        body[0] = False  # the scan clears: straight on to the goal
        seen = len(commands)
        assert h.spin_until(lambda: any(c.linear.x > 0.4 for c in commands[seen:]), 10), \
            f"did not drive on once the scan was clear: {[round(c.linear.x, 2) for c in commands[seen:]]}"
    finally:
        h.close()
        code, out = stop_process(node, signal.SIGINT, timeout=20)
    # stopped with a goal running: a clean exit (the driver's watchdog stops the base, not a last publish)
    assert code == 0 and "Traceback" not in out, out[-3000:]
