"""tf2_msgs and nav2_msgs import and are field-for-field Jazzy's (our copies on pip installs, the real
packages on an apt install: the same assertions hold for both).

The RIHS01 type hashes below are the real Jazzy ones, as published independently of this repository
(``ros2 topic info /tf --verbose`` and rosbag2 metadata from Jazzy robots, client libraries' golden
tables). A hash covers names, types and order of every field, nested types included, but not
constants, so the constants are compared one by one.
"""

import json
from pathlib import Path

from nav2_msgs.action import NavigateToPose
from tf2_msgs.action import LookupTransform
from tf2_msgs.msg import TF2Error, TFMessage
from tf2_msgs.srv import FrameGraph

JAZZY_HASHES = {
    ("tf2_msgs", "msg/TFMessage"): "RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087",
    ("tf2_msgs", "msg/TF2Error"): "RIHS01_db2485e7d6a0ec75bf087e058ee45df682acc3a621ca7780503d10aac141809a",
}
#: NavigateToPose's feedback as it goes over the wire (/navigate_to_pose/_action/feedback)
NAV2_FEEDBACK_MESSAGE_HASH = "RIHS01_9d1f6fa2eb975ce733b419ac2e97b134d8ff92b6478b6559feed9a50bdfd82b3"


def _constants(cls) -> dict[str, int]:
    meta = type(cls)
    return dict(getattr(meta, f"_{meta.__name__}__constants"))


def _type_hashes(package: str, interface: str) -> dict[str, str]:
    """Hashes rosidl generated at build time (share/<pkg>/<interface>.json beside the install prefix)."""
    module = __import__(package)
    prefix = Path(module.__file__).resolve().parents[4]  # <prefix>/lib/pythonX.Y/site-packages/<pkg>/
    data = json.loads((prefix / "share" / package / f"{interface}.json").read_text())
    return {h["type_name"]: h["hash_string"] for h in data["type_hashes"]}


def test_tf2_msgs_fields_are_jazzys():
    transforms = "sequence<geometry_msgs/TransformStamped>"
    assert TFMessage.get_fields_and_field_types() == {"transforms": transforms}
    assert TF2Error.get_fields_and_field_types() == {"error": "uint8", "error_string": "string"}
    assert _constants(TF2Error) == {"NO_ERROR": 0, "LOOKUP_ERROR": 1, "CONNECTIVITY_ERROR": 2,
                                    "EXTRAPOLATION_ERROR": 3, "INVALID_ARGUMENT_ERROR": 4, "TIMEOUT_ERROR": 5,
                                    "TRANSFORM_ERROR": 6}
    assert FrameGraph.Request.get_fields_and_field_types() == {}
    assert FrameGraph.Response.get_fields_and_field_types() == {"frame_yaml": "string"}
    assert list(LookupTransform.Goal.get_fields_and_field_types().items()) == [
        ("target_frame", "string"), ("source_frame", "string"), ("source_time", "builtin_interfaces/Time"),
        ("timeout", "builtin_interfaces/Duration"), ("target_time", "builtin_interfaces/Time"),
        ("fixed_frame", "string"), ("advanced", "boolean")]
    assert list(LookupTransform.Result.get_fields_and_field_types().items()) == [
        ("transform", "geometry_msgs/TransformStamped"), ("error", "tf2_msgs/TF2Error")]
    assert LookupTransform.Feedback.get_fields_and_field_types() == {}
    for (package, interface), expected in JAZZY_HASHES.items():
        name = f"{package}/{interface}"
        assert _type_hashes(package, interface)[name] == expected, name


def test_navigate_to_pose_is_jazzys():
    assert list(NavigateToPose.Goal.get_fields_and_field_types().items()) == [
        ("pose", "geometry_msgs/PoseStamped"), ("behavior_tree", "string")]
    assert list(NavigateToPose.Result.get_fields_and_field_types().items()) == [
        ("error_code", "uint16"), ("error_msg", "string")]
    assert _constants(NavigateToPose.Result) == {"NONE": 0}  # Jazzy has only NONE (Kilted added more)
    assert list(NavigateToPose.Feedback.get_fields_and_field_types().items()) == [
        ("current_pose", "geometry_msgs/PoseStamped"), ("navigation_time", "builtin_interfaces/Duration"),
        ("estimated_time_remaining", "builtin_interfaces/Duration"), ("number_of_recoveries", "int16"),
        ("distance_remaining", "float")]
    hashes = _type_hashes("nav2_msgs", "action/NavigateToPose")
    assert hashes["nav2_msgs/action/NavigateToPose_FeedbackMessage"] == NAV2_FEEDBACK_MESSAGE_HASH
