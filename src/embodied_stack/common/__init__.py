"""Small ROS-free utilities shared by every capability."""
