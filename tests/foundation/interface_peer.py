"""A separate-process peer for test_interfaces_over_dds: publishes our custom
messages and serves the ExecuteSkill action (feedback, cancel, result), so the test
exercises our interfaces across processes, not only in-process."""

import time

import rclpy
from diagnostic_msgs.msg import KeyValue
from embodied_stack_interfaces.action import ExecuteSkill
from embodied_stack_interfaces.msg import DetectedObject, DetectedObjectArray
from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node

from embodied_stack.ros import qos


class Peer(Node):
    def __init__(self) -> None:
        super().__init__("interface_peer")
        self.pub = self.create_publisher(DetectedObjectArray, "objects", qos.EVENTS)
        self.create_timer(0.1, self._publish)
        self.server = ActionServer(self, ExecuteSkill, "execute_skill", self._execute,
                                   cancel_callback=lambda _: CancelResponse.ACCEPT,
                                   callback_group=ReentrantCallbackGroup())

    def _publish(self) -> None:
        obj = DetectedObject(id="obj_1", label="cube", confidence=0.9, visible=True,
                             attributes=[KeyValue(key="color", value="red")])
        obj.pose.position.x, obj.size.x = 0.3, 0.04
        msg = DetectedObjectArray(objects=[obj])
        msg.header.frame_id = "base_link"
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub.publish(msg)

    def _execute(self, handle):
        steps = int(dict((kv.key, kv.value) for kv in handle.request.arguments).get("steps", "5"))
        for i in range(steps):
            if handle.is_cancel_requested:
                handle.canceled()
                return ExecuteSkill.Result(success=False, message="cancelled")
            handle.publish_feedback(ExecuteSkill.Feedback(progress=(i + 1) / steps, state="moving"))
            time.sleep(0.05)
        handle.succeed()
        return ExecuteSkill.Result(success=True, message=f"{handle.request.skill} done",
                                   duration_s=steps * 0.05)


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
