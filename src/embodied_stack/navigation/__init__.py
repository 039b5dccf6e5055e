"""Social navigation (ROS-free core): reach a goal among people without touching anyone, politely.

Where things are:

- ``crowd``: pedestrian models (social force with walking groups; ORCA from navground);
  ``scenarios``: the eight scenario generators; ``perceived``: perception-like noise and dropouts;
- ``env``: the ``embodied_stack/SocialNav-v0`` Gymnasium env; ``observation``: its encoding (shared with
  the learned planner); ``policy``: the set-attention features extractor for SB3;
- ``planners``: ``social_force``, ``orca``, ``dwa``, ``learned`` behind one ``Planner.act`` interface;
- ``metrics``: HuNavSim / SocNavBench / CrowdNav episode metrics; ``evaluate`` + ``cli``: ``embodied-stack
  eval nav``; ``plots``: SVG trajectories and metric bars;
- ``occupancy``: the indoor world's occupancy grid and A*; ``navigator``: global path + social local
  planner; ``indoor_crowd``: the crowd models walking the indoor world's waypoint graph.
"""
