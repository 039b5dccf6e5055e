"""Heartbeat: the smallest real node, and the template for every other one.

``monitor.py`` is the ROS-free core (which peers are alive, how fast, how late);
``node.py`` is the thin rclpy adapter (parameters, QoS, diagnostics, shutdown).
"""
