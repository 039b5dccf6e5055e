"""The layering rule, enforced: core libraries never import ROS.

Only ``*/node.py`` modules and the ``embodied_stack.ros`` helpers may import rclpy,
ROS message packages or our interface package. A core that imports ROS cannot be
used by the Gymnasium envs, training or benchmarks on a machine without ROS.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "embodied_stack"
ROS_MODULES = ("rclpy", "embodied_stack_interfaces", "embodied_stack.ros", "launch", "launch_ros")
ROS_SUFFIXES = ("_msgs", "_srvs")


def _is_ros(module: str) -> bool:
    top = module.split(".")[0]
    return module.startswith(ROS_MODULES) or top in ROS_MODULES or top.endswith(ROS_SUFFIXES)


def _ros_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_ros(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _is_ros(node.module):
            found.append(node.module)
    return found


def _may_import_ros(path: Path) -> bool:
    rel = path.relative_to(SRC)
    return rel.parts[0] == "ros" or path.name == "node.py" or path.name.endswith("_node.py")


def test_core_modules_do_not_import_ros():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        if not _may_import_ros(path):
            imports = _ros_imports(path)
            if imports:
                offenders[str(path.relative_to(SRC))] = imports
    assert not offenders, f"core modules importing ROS (move that code into a node.py): {offenders}"


def test_checker_detects_ros_imports(tmp_path):
    bad = tmp_path / "core.py"
    bad.write_text("import numpy\nfrom sensor_msgs.msg import Image\nimport rclpy.node\n")
    assert _ros_imports(bad) == ["sensor_msgs.msg", "rclpy.node"]


def test_test_module_names_are_unique():
    """tests/ has no __init__.py files (rootdir import mode), so two test files with the same
    basename in different folders make pytest refuse to collect the second one."""
    tests = Path(__file__).resolve().parents[1]
    seen: dict[str, list[str]] = {}
    for path in tests.rglob("*.py"):
        if path.name == "conftest.py":  # pytest scopes conftest files by folder
            continue
        seen.setdefault(path.name, []).append(str(path.relative_to(tests)))
    clashes = {name: where for name, where in seen.items() if len(where) > 1}
    assert not clashes, f"rename these test modules to unique basenames: {clashes}"
