"""A separate-process peer for test_tf_over_dds: a tiny robot_state_publisher for the SO-arm
(static frames on /tf_static, joint-driven links on /tf at 20 Hz) and, where nav2_msgs is
installed, a NavigateToPose server that answers one goal with feedback and a result.

The joint values come as JSON in TF_PEER_JOINTS and the arm's mount in the world (xyz, quat_xyzw)
in TF_PEER_MOUNT, so the test computes the expected poses itself. Static transforms are sent one
call each: the listener must still receive all of them (the static broadcaster re-publishes the
union, as tf2_ros does).
"""

import json
import os
import time

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node

from embodied_stack.ros.tf import StaticTransformBroadcaster, TransformBroadcaster
from embodied_stack.sim import so_arm
from embodied_stack.tf import KinematicTree, Transform


class Peer(Node):
    def __init__(self) -> None:
        super().__init__("tf_peer")
        self.joints = json.loads(os.environ["TF_PEER_JOINTS"])
        self.tree = KinematicTree.from_mjcf(so_arm.arm_xml_path(), site_frames={so_arm.EE_SITE: "ee_link"})
        self.static = StaticTransformBroadcaster(self)
        for t in self.tree.static_transforms():
            self.static.send(t)
        xyz, quat = json.loads(os.environ["TF_PEER_MOUNT"])
        self.static.send(Transform("world", "base_link", xyz, quat))
        self.dynamic = TransformBroadcaster(self)
        self.create_timer(0.05, self._publish)
        self._nav = self._nav2_server()

    def _publish(self) -> None:
        stamp = self.get_clock().now().nanoseconds * 1e-9
        self.dynamic.send(self.tree.transforms(self.joints, stamp=stamp))

    def _nav2_server(self):
        try:
            from nav2_msgs.action import NavigateToPose
        except ImportError:
            return None
        from rclpy.action import ActionServer

        def execute(handle):
            goal = handle.request
            feedback = NavigateToPose.Feedback(current_pose=goal.pose, number_of_recoveries=1,
                                               distance_remaining=0.25)
            feedback.navigation_time.sec = 2
            # feedback is volatile: make sure the client's feedback subscription is there first
            deadline = time.monotonic() + 10.0
            topic = "/navigate_to_pose/_action/feedback"
            while self.count_subscribers(topic) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            for _ in range(3):
                handle.publish_feedback(feedback)
                time.sleep(0.05)
            handle.succeed()
            p = goal.pose.pose.position
            where = f"{p.x:.2f} {p.y:.2f} in {goal.pose.header.frame_id}"
            return NavigateToPose.Result(error_code=NavigateToPose.Result.NONE, error_msg=f"reached {where}")

        return ActionServer(self, NavigateToPose, "navigate_to_pose", execute)


def main() -> None:
    rclpy.init()
    node = Peer()
    executor = MultiThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
