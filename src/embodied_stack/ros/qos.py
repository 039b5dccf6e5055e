"""QoS presets (REP-2003) so every node agrees on them.

- ``SENSOR``: best-effort, keep-last 5, volatile -- camera, scan, IMU, joint states;
  compatible with subscribers using ``qos_profile_sensor_data`` and with reliable publishers.
- ``COMMAND``: reliable, keep-last 1 -- a robot acts on the newest command only;
  older ones are worthless (and dangerous) once a newer one exists.
- ``LATCHED``: reliable, transient-local, keep-last 1 -- maps, static info and
  "current state" topics that late joiners must receive.
- ``EVENTS``: reliable, keep-last 50 -- detections, plans, anything that must not be dropped.
- ``RECORD_SENSOR`` / ``RECORD_COMMAND``: what a *recorder* subscribes with -- the sensor and
  command reliability above, but keep-last 100: a recorder must log every sample, so a second of
  its executor stalling (video encoding, a saved episode) is buffered instead of overwritten
  (measured: with depth 5 a loaded machine lost 2-3 of 12 frames per episode).
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
RECORD_SENSOR = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST,
                           reliability=ReliabilityPolicy.BEST_EFFORT, durability=DurabilityPolicy.VOLATILE)
RECORD_COMMAND = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
