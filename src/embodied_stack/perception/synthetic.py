"""Ray-cast RGB-D scenes of shaded primitives on a table, with ground truth.

Why in the package: tests and benchmarks need scenes with exact ground truth that need
neither MuJoCo nor a GPU (like SB3's ``identity_env``); the simulator-based evaluation
in ``bench/perception_eval.py`` complements it with rendered images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embodied_stack.language.vocab import COLORS
from embodied_stack.perception.geometry import Transform, matrix_to_quat

TABLE_RGB = np.array([0.62, 0.52, 0.40])
FLOOR_RGB = np.array([0.35, 0.35, 0.38])
_LIGHT = np.array([0.3, 0.2, 0.93]) / np.linalg.norm([0.3, 0.2, 0.93])


@dataclass
class SyntheticObject:
    name: str
    shape: str  # cube, cylinder, sphere, bowl, bin
    color: str  # COLORS name
    position: np.ndarray  # box centre, m (base frame; table top at z = 0)
    size: np.ndarray  # full extents, m
    yaw: float = 0.0


def default_camera() -> Transform:
    """The tabletop world's scene camera (and config/nodes/perception.yaml's default): 0.55 m in
    front of the arm base, 0.42 m above the table, looking back and down at it."""
    return Transform.from_xyz_quat([0.55, 0.0, 0.42], [-0.6615057, -0.6615057, 0.2498204, 0.2498204])


def intrinsics(width: int = 640, height: int = 480, vfov_deg: float = 55.0) -> np.ndarray:
    """Square-pixel pinhole K with the scene camera's vertical field of view."""
    f = height / 2 / np.tan(np.deg2rad(vfov_deg) / 2)
    return np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1.0]])


def _hit_box_faces(o, d, half, open_top):
    """Nearest hit on an axis-aligned box in its own frame (centre at origin); open_top skips
    the +z face and makes the walls thin (a bin)."""
    best_t = np.full(len(o), np.inf)
    best_n = np.zeros((len(o), 3))
    for axis in range(3):
        for sign in (-1.0, 1.0):
            if open_top and axis == 2 and sign > 0:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (sign * half[axis] - o[:, axis]) / d[:, axis]
            p = o + t[:, None] * d
            others = [a for a in range(3) if a != axis]
            ok = (t > 1e-6) & np.all(np.abs(p[:, others]) <= np.array(half)[others] + 1e-9, axis=1)
            closer = ok & (t < best_t)
            best_t[closer] = t[closer]
            n = np.zeros(3)
            n[axis] = sign
            best_n[closer] = n
    if open_top:  # inner faces seen from inside: flip normals towards the viewer
        flip = np.einsum("ij,ij->i", best_n, d) > 0
        best_n[flip] *= -1
    return best_t, best_n


def _hit_sphere(o, d, centre, r, lower_only=False):
    oc = o - centre
    a = np.einsum("ij,ij->i", d, d)
    b = np.einsum("ij,ij->i", oc, d)
    c = np.einsum("ij,ij->i", oc, oc) - r * r
    disc = b * b - a * c
    t = np.full(len(o), np.inf)
    ok = disc >= 0
    sq = np.sqrt(np.where(ok, disc, 0))
    for cand in ((-b - sq) / a, (-b + sq) / a):
        p = o + cand[:, None] * d
        good = ok & (cand > 1e-6) & (cand < t)
        if lower_only:
            good &= p[:, 2] <= centre[2]
        t[good] = cand[good]
    p = o + np.where(np.isfinite(t), t, 0)[:, None] * d
    n = (p - centre) / r
    flip = np.einsum("ij,ij->i", n, d) > 0
    n[flip] *= -1
    return t, n


def _hit_cylinder(o, d, centre, r, half_h):
    t = np.full(len(o), np.inf)
    n = np.zeros((len(o), 3))
    oc = o - centre
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = oc[:, 0] * d[:, 0] + oc[:, 1] * d[:, 1]
    c = oc[:, 0] ** 2 + oc[:, 1] ** 2 - r * r
    disc = b * b - a * c
    ok = (disc >= 0) & (a > 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_side = (-b - np.sqrt(np.where(ok, disc, 0))) / a
    p = oc + t_side[:, None] * d
    good = ok & (t_side > 1e-6) & (np.abs(p[:, 2]) <= half_h)
    t[good] = t_side[good]
    n[good] = np.c_[p[good, :2] / r, np.zeros(good.sum())]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_top = (half_h - oc[:, 2]) / d[:, 2]
    p = oc + t_top[:, None] * d
    good = (t_top > 1e-6) & (p[:, 0] ** 2 + p[:, 1] ** 2 <= r * r) & (t_top < t)
    t[good] = t_top[good]
    n[good] = [0, 0, 1]
    return t, n


def render(
    objects: list[SyntheticObject],
    camera: Transform,
    k: np.ndarray,
    width: int = 640,
    height: int = 480,
    table_half: tuple[float, float] = (0.4, 0.5),
    table_centre_x: float = 0.25,
    noise_std: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (rgb uint8 HxWx3, depth float32 HxW in m along the optical axis)."""
    v, u = np.mgrid[0:height, 0:width]
    rays_cam = np.stack(
        [(u.ravel() - k[0, 2]) / k[0, 0], (v.ravel() - k[1, 2]) / k[1, 1], np.ones(u.size)], axis=1
    )
    d = rays_cam @ camera.rotation.T
    o = np.broadcast_to(camera.translation, d.shape)
    best_t = np.full(len(d), np.inf)
    normal = np.zeros_like(d)
    color = np.zeros_like(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        for z, rgb, bounded in ((0.0, TABLE_RGB, True), (-0.7, FLOOR_RGB, False)):
            t = (z - o[:, 2]) / d[:, 2]
            p = o + t[:, None] * d
            ok = (t > 0) & (t < best_t)
            if bounded:
                ok &= (np.abs(p[:, 0] - table_centre_x) <= table_half[0]) & (np.abs(p[:, 1]) <= table_half[1])
            best_t[ok], normal[ok], color[ok] = t[ok], [0, 0, 1], rgb
    for obj in objects:
        rgb = np.array(COLORS[obj.color].rgb)
        c, s = np.cos(obj.yaw), np.sin(obj.yaw)
        rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        if obj.shape in ("cube", "bin"):
            t, n = _hit_box_faces((o - obj.position) @ rot, d @ rot, obj.size / 2, obj.shape == "bin")
            n = n @ rot.T
        elif obj.shape == "cylinder":
            t, n = _hit_cylinder(o, d, obj.position, obj.size[0] / 2, obj.size[2] / 2)
        elif obj.shape == "sphere":
            t, n = _hit_sphere(o, d, obj.position, obj.size[0] / 2)
        elif obj.shape == "bowl":
            r = obj.size[0] / 2
            centre = obj.position + np.array([0, 0, r - obj.size[2] / 2])
            t, n = _hit_sphere(o, d, centre, r, lower_only=True)
        else:
            raise ValueError(f"unknown synthetic shape '{obj.shape}'")
        ok = t < best_t
        best_t[ok], normal[ok], color[ok] = t[ok], n[ok], rgb
    shade = 0.45 + 0.55 * np.clip(np.abs(normal @ _LIGHT), 0, 1)
    img = np.clip(color * shade[:, None] * 255, 0, 255).astype(np.uint8).reshape(height, width, 3)
    depth = (best_t * rays_cam[:, 2]).astype(np.float32)  # rays have unit optical z
    if noise_std > 0:
        depth += (rng or np.random.default_rng()).normal(0, noise_std, depth.shape).astype(np.float32)
    depth[~np.isfinite(depth)] = 0.0
    return img, depth.reshape(height, width)


def random_scene(
    rng: np.random.Generator,
    n_objects: int = 5,
    shapes: tuple[str, ...] = ("cube", "cylinder", "sphere", "bowl", "bin"),
) -> list[SyntheticObject]:
    """Non-overlapping objects with unique (colour, shape) pairs on the table in front of the arm."""
    objects: list[SyntheticObject] = []
    colors = list(COLORS)
    used: set[tuple[str, str]] = set()
    while len(objects) < n_objects:
        shape = str(rng.choice(shapes))
        color = str(rng.choice(colors))
        if (color, shape) in used:
            continue
        w = {
            "cube": rng.uniform(0.03, 0.05),
            "cylinder": rng.uniform(0.03, 0.05),
            "sphere": rng.uniform(0.03, 0.05),
            "bowl": rng.uniform(0.1, 0.13),
            "bin": rng.uniform(0.1, 0.13),
        }[shape]
        h = {"cube": w, "cylinder": rng.uniform(0.04, 0.06), "sphere": w, "bowl": w / 2, "bin": 0.04}[shape]
        xy = np.array([rng.uniform(0.1, 0.35), rng.uniform(-0.22, 0.22)])
        radius = w * 0.75
        if any(np.linalg.norm(xy - o.position[:2]) < radius + o.size[0] * 0.75 + 0.03 for o in objects):
            continue
        used.add((color, shape))
        objects.append(
            SyntheticObject(
                f"{color}_{shape}",
                shape,
                color,
                np.array([*xy, h / 2]),
                np.array([w, w, h]),
                float(rng.uniform(0, np.pi / 2)),
            )
        )
    return objects


def object_quat(obj: SyntheticObject) -> np.ndarray:
    c, s = np.cos(obj.yaw), np.sin(obj.yaw)
    return matrix_to_quat(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]))
