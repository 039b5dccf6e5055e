"""planner (ROS-free core)."""
