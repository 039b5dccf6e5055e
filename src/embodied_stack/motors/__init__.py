"""motors (ROS-free core)."""
