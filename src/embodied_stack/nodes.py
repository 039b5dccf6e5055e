"""Every ROS node of the package: executable name -> ``module:function``.

One table serves three consumers: ``setup.py`` turns it into console scripts
(``embodied-stack-<name>`` on pip installs; also bare ``<name>`` for
``ros2 run embodied_stack <name>`` when built on a ROS install), the launch runner
starts ``python -m <module>``, and ``launch/stack.launch.py`` maps stack entries to
executables. This file must stay importable without dependencies (setup.py execs it).
"""

NODES: dict[str, str] = {
    "recorder": "embodied_stack.recording.node:main",
    "teleop": "embodied_stack.teleop.node:main",
    "heartbeat": "embodied_stack.heartbeat.node:main",
    "perception": "embodied_stack.perception.node:main",
    "sim_bridge": "embodied_stack.sim_bridge.node:main",
    "robot_driver": "embodied_stack.driver.node:main",
    "vla_policy": "embodied_stack.vla.node:main",
    "navigation": "embodied_stack.navigation.node:main",
    "executive": "embodied_stack.executive.node:main",
}
