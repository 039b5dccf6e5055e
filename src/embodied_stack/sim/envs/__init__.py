"""Gymnasium environments of embodied_stack, registered under the ``embodied_stack/`` namespace.

Importing this module registers them (string entry points, so MuJoCo loads only when an env is made).
"""

from gymnasium.envs.registration import register

register(
    id="embodied_stack/QuadrupedLocomotion-v0",
    entry_point="embodied_stack.sim.envs.quadruped_locomotion:QuadrupedLocomotionEnv",
    max_episode_steps=500,
)
