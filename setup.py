"""ament_python / pip build of embodied_stack.

Console scripts come from ``src/embodied_stack/nodes.py``. On a ROS install (colcon
after sourcing ``/opt/ros/jazzy/setup.bash``, which sets ``ROS_DISTRO``) each node is
also installed under its bare name into ``lib/embodied_stack`` so
``ros2 run embodied_stack <node>`` works; pip installs get only the prefixed names so
nothing generic like ``heartbeat`` lands on a user's PATH.
"""

import os
import runpy
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "embodied_stack"
HERE = Path(__file__).parent
NODES = runpy.run_path(str(HERE / "src" / PACKAGE / "nodes.py"))["NODES"]

scripts = [f"embodied-stack = {PACKAGE}.cli:main"]
scripts += [f"embodied-stack-{name.replace('_', '-')} = {target}" for name, target in NODES.items()]
if os.environ.get("ROS_DISTRO"):
    scripts += [f"{name} = {target}" for name, target in NODES.items()]


def tree(folder: str) -> list[tuple[str, list[str]]]:
    """data_files entries installing ``folder`` under share/<package>/ with its layout."""
    out: dict[str, list[str]] = {}
    for path in glob(f"{folder}/**/*", recursive=True):
        if os.path.isfile(path) and "__pycache__" not in path:
            out.setdefault(os.path.join("share", PACKAGE, os.path.dirname(path)), []).append(path)
    return sorted(out.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    package_dir={"": "src"},
    packages=find_packages("src"),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *tree("config"),
        *tree("launch"),
        *tree("sim"),
        *tree("checkpoints"),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="embodied_stack developers",
    maintainer_email="dev@embodied-stack.dev",
    description="ROS 2 embodied-robotics stack: perception, VLA policy, simulation, teleop and recording.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": scripts},
)
