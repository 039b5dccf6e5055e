"""Policies from other frameworks behind ``VLAPolicy``'s interface, and one loader for all.

What a policy object offers the node and the runner (``VLAPolicy`` and every adapter):

* ``predict_chunk(images, state, instruction) -> (chunk_size, action_dim)`` float32; raises
  ``embodied_stack.vla.policy.InvalidObservation`` on input it must not act on;
* ``check_observation(images, state)``, ``chunk_size``, ``action_dim``;
* ``cfg.model.cameras`` (our camera names, the node subscribes one topic each) and
  ``cfg.model.action_space`` ("joint_position" or "native", read by ``RunnerConfig``).

Differences the node must allow for: only ``VLAPolicy`` has ``encoder`` (its language model,
warmed up at start); adapters have ``warm_up()`` instead.

LeRobot is optional (requirements/adapters.txt) and imported only when a ``lerobot:`` spec
is loaded, so this package imports without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embodied_stack.vla.adapters.lerobot_policy import LeRobotPolicyAdapter
    from embodied_stack.vla.policy import VLAPolicy

__all__ = ["LEROBOT_PREFIX", "load_policy"]

LEROBOT_PREFIX = "lerobot:"


def load_policy(spec: str, threads: int | None = None) -> VLAPolicy | LeRobotPolicyAdapter:
    """Load a policy from a string a ROS parameter can hold.

    Args:
        spec: ``<folder>``: our checkpoint (``VLAPolicy``);
            ``lerobot:<folder>``: a LeRobot ``save_pretrained`` folder (``LeRobotPolicyAdapter``);
            ``lerobot:<folder>?cameras=scene:front,wrist:hand``: the same with our camera names
            mapped to the policy's (``observation.images.front`` ...), see
            ``LeRobotPolicyAdapter``'s ``camera_map``.
        threads: torch intra-op threads for inference (None keeps torch's setting).

    Raises:
        ValueError: an empty spec, or an unknown option after ``?``.
    """
    if not spec or not spec.strip():
        raise ValueError("policy spec is empty: give a checkpoint folder or lerobot:<folder>")
    if spec.startswith(LEROBOT_PREFIX):
        from embodied_stack.vla.adapters.lerobot_policy import LeRobotPolicyAdapter, parse_camera_map

        path, _, query = spec[len(LEROBOT_PREFIX):].partition("?")
        camera_map = None
        for option in filter(None, query.split("&")):
            key, _, value = option.partition("=")
            if key != "cameras":
                raise ValueError(f"unknown option {key!r} in policy spec {spec!r}; "
                                 f"valid: cameras=<ours>:<theirs>,...")
            camera_map = parse_camera_map(value)
        return LeRobotPolicyAdapter(path, threads=threads, camera_map=camera_map)
    from embodied_stack.vla.policy import VLAPolicy

    return VLAPolicy(spec, threads=threads)
