"""Sim bridge: runs a :class:`~embodied_stack.sim.world.SimWorld` against the clock
and speaks exactly the topics real drivers speak (``node.py``), so the rest of the
stack cannot tell the simulator from hardware. ``worlds.py`` names the worlds it
can run; ``pacer.py`` keeps simulated time in step with wall time."""
