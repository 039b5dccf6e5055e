"""embodied_stack: a ROS 2 embodied-robotics stack.

Layout (a map of the system): each capability has a ROS-free core subpackage
(``perception``, ``vla``, ``sim``, ``hardware``, ``datasets`` ...) and a thin rclpy
adapter in that subpackage's ``node.py``. Only ``node.py`` modules and
``embodied_stack.ros`` may import rclpy; ``tests/test_architecture.py`` enforces it.
"""

__version__ = "0.1.0"
