"""The one driver for any robot: ROS-free core (following, limits, watchdog, e-stop) + its node."""
