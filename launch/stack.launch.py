"""``ros2 launch embodied_stack stack.launch.py stack:=<name>`` on a ROS 2 install.

Reads the same ``config/stacks/<name>.yaml`` as ``embodied-stack launch <name>`` (the
pip-install runner), through the same function, so the two can never disagree on
which nodes run with which parameters and remappings. A required node that exits
shuts the whole launch down, like the runner.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, SetEnvironmentVariable
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from embodied_stack.bringup.runner import dds_environment
from embodied_stack.bringup.stack import launch_node_kwargs, load_stack


def _nodes(context, *args, **kwargs):
    stack = load_stack(LaunchConfiguration("stack").perform(context))
    actions = [SetEnvironmentVariable(k, str(v)) for k, v in stack.environment.items()]
    profile = LaunchConfiguration("dds_profile").perform(context)
    actions += [SetEnvironmentVariable(k, v) for k, v in dds_environment(profile).items()]
    for spec in stack.nodes:
        node_kwargs = launch_node_kwargs(spec)
        if spec.required and not spec.respawn:
            node_kwargs["on_exit"] = [EmitEvent(event=Shutdown(reason=f"required node {spec.name} exited"))]
        actions.append(Node(**node_kwargs))
    return actions


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument("stack", default_value="sim_tabletop",
                              description="stack name under config/stacks/ or a YAML path"),
        DeclareLaunchArgument("dds_profile", default_value="shm",
                              description="'shm' (shipped 16 MB shared-memory profile) or 'default'"),
        OpaqueFunction(function=_nodes),
    ])
