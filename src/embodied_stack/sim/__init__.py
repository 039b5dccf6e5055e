"""Simulation: MuJoCo worlds that look like hardware (:class:`SimWorld` holding
:class:`~embodied_stack.hardware.Robot` implementations), Gymnasium envs built on
them (:mod:`embodied_stack.sim.envs`), scripted experts and rendering."""
