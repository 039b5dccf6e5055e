"""QoS presets (REP-2003) so every node agrees on them.

- ``SENSOR``: best-effort, keep-last 5, volatile -- camera, scan, IMU, joint states;
  compatible with subscribers using ``qos_profile_sensor_data`` and with reliable publishers.
- ``COMMAND``: reliable, keep-last 1 -- a robot acts on the newest command only;
  older ones are worthless (and dangerous) once a newer one exists.
- ``LATCHED``: reliable, transient-local, keep-last 1 -- maps, static info and
  "current state" topics that late joiners must receive.
- ``EVENTS``: reliable, keep-last 50 -- detections, plans, anything that must not be dropped.
"""

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

SENSOR = qos_profile_sensor_data
COMMAND = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.VOLATILE)
LATCHED = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
EVENTS = QoSProfile(depth=50, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE)
