"""Thin shared rclpy helpers: QoS presets, message conversions, parameters,
diagnostics and the node main loop. The only package besides ``*/node.py`` that may
import rclpy."""
