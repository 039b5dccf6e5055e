"""Gymnasium environments of embodied_stack, registered under the ``embodied_stack/`` namespace.

Importing this module registers them (string entry points, so MuJoCo loads only when an env is made).
"""

from gymnasium.envs.registration import register

register(
    id="embodied_stack/QuadrupedLocomotion-v0",
    entry_point="embodied_stack.sim.envs.quadruped_locomotion:QuadrupedLocomotionEnv",
    max_episode_steps=500,
)
register(
    id="embodied_stack/Reach-v0",
    entry_point="embodied_stack.sim.envs.tabletop_reach:TabletopReachEnv",
    max_episode_steps=100,
)
register(
    id="embodied_stack/Push-v0",
    entry_point="embodied_stack.sim.envs.tabletop_push:TabletopPushEnv",
    max_episode_steps=200,
)
register(
    id="embodied_stack/TabletopPickPlace-v0",
    entry_point="embodied_stack.sim.envs.tabletop_pick_place:TabletopPickPlaceEnv",
    max_episode_steps=200,
)
register(
    id="embodied_stack/SocialNav-v0",
    entry_point="embodied_stack.navigation.env:SocialNavEnv",
)
