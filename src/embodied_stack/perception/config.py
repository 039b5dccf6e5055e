"""Typed perception parameters, filled from ``config/nodes/perception.yaml``.

Why dataclasses per stage: each core class takes only its own section, so a test can
build one stage with one override, and a misspelt YAML key fails loudly (``from_dict``).
The node declares the same flattened keys as ROS parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embodied_stack.config import ConfigError, from_dict, load_node_params
from embodied_stack.perception.geometry import Transform

DEFAULT_CONFIG = "config/nodes/perception.yaml"
NODE_NAME = "perception"


@dataclass
class SensorMount:
    """Pose of a sensor frame in the base frame (like ``static_transform_publisher``)."""

    frame_id: str = "camera_color_optical_frame"
    xyz: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    quat_xyzw: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 1.0])

    def transform(self) -> Transform:
        return Transform.from_xyz_quat(self.xyz, self.quat_xyzw)


@dataclass
class ValidationConfig:
    min_valid_depth_fraction: float = 0.05
    depth_min_m: float = 0.1
    depth_max_m: float = 4.0


@dataclass
class ObjectsConfig:
    #: every n-th depth pixel in both axes; 0 = auto, the largest stride that keeps at least
    #: geometry.AUTO_STRIDE_COLUMNS columns (640x480 -> 2, 320x240 -> 1)
    pixel_stride: int = 0
    workspace_min: list[float] = field(default_factory=lambda: [-0.2, -0.55, -0.1])
    workspace_max: list[float] = field(default_factory=lambda: [0.7, 0.55, 0.5])
    self_filter_min: list[float] = field(default_factory=lambda: [-0.09, -0.09, -0.1])
    self_filter_max: list[float] = field(default_factory=lambda: [0.09, 0.09, 0.6])
    voxel_size_m: float = 0.007
    plane_distance_m: float = 0.008
    plane_iterations: int = 60
    plane_reuse_min_inlier_fraction: float = 0.6
    plane_max_tilt_deg: float = 30.0
    min_height_above_plane_m: float = 0.012
    max_object_height_m: float = 0.35
    min_cluster_voxels: int = 6
    cluster_bridge_voxels: int = 0
    max_cluster_extent_m: float = 0.45
    max_bottom_height_m: float = 0.03


@dataclass
class DetectorConfig:
    kind: str = "geometric"  # a name in embodied_stack.perception.detectors.DETECTORS
    model_path: str = ""  # open_vocabulary: folder saved with save_pretrained (OWLv2, Grounding-DINO)
    score_threshold: float = 0.2
    queries: list[str] = field(default_factory=list)  # empty: one per vocab colour x shape


@dataclass
class TrackingConfig:
    gate_m: float = 0.06
    smoothing: float = 0.5
    confirm_hits: int = 2
    max_missed_in_view: int = 5
    memory_s: float = 30.0


@dataclass
class GroundingConfig:
    relation_margin_m: float = 0.03
    size_ratio: float = 1.3


@dataclass
class PeopleConfig:
    min_range_m: float = 0.2
    max_range_m: float = 8.0
    jump_distance_m: float = 0.15
    min_points: int = 3
    min_width_m: float = 0.08
    max_width_m: float = 0.8
    leg_merge_distance_m: float = 0.45
    max_circle_residual_m: float = 0.02
    person_radius_m: float = 0.2
    gate_m: float = 0.8
    process_accel_std: float = 2.0
    measurement_std_m: float = 0.08
    confirm_hits: int = 3
    max_coast_s: float = 1.0


@dataclass
class SyncConfig:
    slop_s: float = 0.02
    optional_slop_s: float = 0.05
    queue_size: int = 10


@dataclass
class PerceptionConfig:
    base_frame: str = "base_link"
    camera: SensorMount = field(default_factory=SensorMount)
    laser: SensorMount = field(default_factory=lambda: SensorMount(frame_id="laser"))
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    objects: ObjectsConfig = field(default_factory=ObjectsConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    grounding: GroundingConfig = field(default_factory=GroundingConfig)
    people: PeopleConfig = field(default_factory=PeopleConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)

    _SECTIONS = {
        "camera": SensorMount,
        "laser": SensorMount,
        "validation": ValidationConfig,
        "objects": ObjectsConfig,
        "detector": DetectorConfig,
        "tracking": TrackingConfig,
        "grounding": GroundingConfig,
        "people": PeopleConfig,
        "sync": SyncConfig,
    }
    #: keys of the params file used only by the ROS node
    NODE_ONLY = ("topics.", "publish_cloud", "publish_markers", "diagnostics_period_s")

    @classmethod
    def from_params(cls, params: dict[str, Any], source: str = "perception params") -> PerceptionConfig:
        """Build from flattened ROS parameters (``objects.voxel_size_m`` ...); node-only keys are skipped."""
        sections: dict[str, dict[str, Any]] = {name: {} for name in cls._SECTIONS}
        top: dict[str, Any] = {}
        for key, value in params.items():
            if key.startswith(cls.NODE_ONLY):
                continue
            head, _, rest = key.partition(".")
            if rest:
                if head not in sections:
                    raise ConfigError(
                        f"{source}: unknown section '{head}' (key '{key}'); valid sections: "
                        f"{sorted(sections)}"
                    )
                sections[head][rest] = list(value) if isinstance(value, tuple) else value
            else:
                top[key] = value
        built = {
            name: from_dict(kind, sections[name], f"{source} [{name}]")
            for name, kind in cls._SECTIONS.items()
        }
        return from_dict(cls, {**top, **built}, source)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CONFIG, node_name: str = NODE_NAME) -> PerceptionConfig:
        return cls.from_params(load_node_params(path, node_name), str(path))
