"""``embodied-stack demo``: the stack in simulation, end to end, on the shipped defaults.

``cli.py`` starts the ``sim_tabletop`` stack with the launch runner and drives it with
``operator_node.py``: a ROS node that picks a task the scene allows, asks perception
to ground it, sends it to the VLA policy's ExecuteSkill action, judges success from
the simulator's ground truth and records the scene camera to an MP4.
"""
