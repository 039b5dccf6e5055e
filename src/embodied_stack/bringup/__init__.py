"""Bringup: stack descriptions under ``config/stacks/`` and the process runner.

``stack.py`` reads a stack (which nodes, parameters, remaps) -- the one source of
truth for both ``launch/stack.launch.py`` (``ros2 launch`` on ROS installs) and
``runner.py`` (``embodied-stack launch`` on pip installs).
"""
