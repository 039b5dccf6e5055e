"""Perception: RGB-D, LiDAR and IMU in; described, tracked objects and tracked people out.

The core here is ROS-free (numpy, scipy); ``node.py`` is the thin rclpy adapter.
"""
