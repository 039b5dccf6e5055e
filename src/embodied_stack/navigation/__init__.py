"""navigation (ROS-free core)."""
