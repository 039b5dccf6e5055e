"""LeRobotDataset v3.0 writer and reader (ROS-free; pyarrow + PyAV).

The one data path for demonstrations: teleoperation, the recorder node and scripted
experts write with :class:`LeRobotDatasetWriter`; training and inspection read with
:class:`LeRobotDataset`. The files follow LeRobot's v3.0 layout (see :mod:`.format`),
so LeRobot, openpi and other tools read them too.
"""

from embodied_stack.datasets.format import CODEBASE_VERSION, DatasetError
from embodied_stack.datasets.reader import DatasetMeta, LeRobotDataset
from embodied_stack.datasets.writer import EpisodeReport, LeRobotDatasetWriter, StreamCount, check_storage

__all__ = [
    "CODEBASE_VERSION",
    "DatasetError",
    "DatasetMeta",
    "EpisodeReport",
    "LeRobotDataset",
    "LeRobotDatasetWriter",
    "StreamCount",
    "check_storage",
]
