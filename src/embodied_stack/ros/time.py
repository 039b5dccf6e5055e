"""Conversions between ROS time messages and float seconds."""

from builtin_interfaces.msg import Time


def to_sec(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def from_sec(t: float) -> Time:
    sec = int(t // 1)
    nanosec = int(round((t - sec) * 1e9))
    if nanosec >= 1_000_000_000:
        sec, nanosec = sec + 1, nanosec - 1_000_000_000
    return Time(sec=sec, nanosec=nanosec)
