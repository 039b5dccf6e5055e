"""Child process for test_crash: saves episodes, then hangs mid-episode until killed."""

import sys
import time

from dataset_helpers import FEATURES, make_frame

from embodied_stack.datasets import LeRobotDatasetWriter

root, saved = sys.argv[1], int(sys.argv[2])
w = LeRobotDatasetWriter.create(root, fps=10, features=FEATURES, min_free_mb=1)
for ep in range(saved):
    for i in range(8):
        w.add_frame(make_frame(ep, i), task="task")
    w.save_episode()
for i in range(5):
    w.add_frame(make_frame(saved, i), task="task")
print("MID_EPISODE", flush=True)
time.sleep(60)
