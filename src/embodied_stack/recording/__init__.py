"""Recording demonstrations into LeRobotDataset v3.0 (ROS-free core; ``node.py`` is the ROS side).

:class:`StreamAligner` puts asynchronous streams on the dataset's frame clock;
:class:`Recorder` adds episode control (start / stop / re-record / discard / next) and
per-episode frame accounting on top of :class:`embodied_stack.datasets.LeRobotDatasetWriter`.
"""

from embodied_stack.recording.aligner import StreamAligner, StreamStats
from embodied_stack.recording.recorder import Recorder, RecorderConfig, StreamSpec

__all__ = ["Recorder", "RecorderConfig", "StreamAligner", "StreamSpec", "StreamStats"]
