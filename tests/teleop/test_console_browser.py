"""End to end in headless Chromium: drag the console's pad, record, stop; the dataset loads back.

Needs Debian's ``chromium`` and the ``playwright`` Python package (never a downloaded
browser); scripts/setup.sh installs both, so a missing one is a failure, not a skip.
"""

from __future__ import annotations

import shutil

from playwright import sync_api

from embodied_stack.datasets import LeRobotDataset
from embodied_stack.recording import Recorder
from embodied_stack.sim.tabletop import TabletopConfig, TabletopWorld
from embodied_stack.teleop.session import SimTeleopSession, recorder_config
from embodied_stack.teleop.web import ConsoleServer, WebTeleop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def test_teleoperate_and_record_through_the_console(tmp_path):
    cfg = TabletopConfig.from_yaml()
    cfg.camera_depth = False
    cfg.camera_width, cfg.camera_height = 64, 48
    world = TabletopWorld(cfg)
    world.reset(seed=3)
    device = WebTeleop(hold_s=0.3)
    recorder = Recorder(recorder_config(str(tmp_path / "ds"), world, ["scene"], min_free_mb=1))
    session = SimTeleopSession(world, device, recorder, realtime=True).start()
    server = ConsoleServer(device, session.status, session.latest_frame, ["scene"], port=0,
                           on_reset=session.reset_estop).start()
    ee0 = world.ee_position().copy()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.goto(server.url)
            page.wait_for_function("document.getElementById('cam-scene').src.startsWith('blob:')",
                                   timeout=10000)
            page.fill("#task", "push the arm forward")
            page.click("#start")
            page.wait_for_function("document.getElementById('rec-state').textContent.includes('recording')",
                                   timeout=5000)
            box = page.locator("#pad").bounding_box()
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx, cy - box["height"] / 2, steps=5)  # knob to the top: full forward
            page.wait_for_timeout(1500)
            page.mouse.up()
            page.wait_for_timeout(300)
            page.click("#stop")
            page.wait_for_function("document.getElementById('rec-state').textContent.includes('episodes 1')",
                                   timeout=10000)
            page.screenshot(path=str(tmp_path / "console.png"))
            browser.close()
    finally:
        server.stop()
        session.stop()
        world.close()
    assert world.ee_position()[0] - ee0[0] > 0.05, "dragging the pad forward did not move the arm forward"
    report = session.reports[-1]
    assert report.saved and not report.flagged, report.summary()
    ds = LeRobotDataset(tmp_path / "ds")
    assert ds.meta.total_episodes == 1 and len(ds) == report.length >= 25  # >= 1 s at 25 fps
    assert ds[0]["task"] == "push the arm forward"
    last = ds[len(ds) - 1]
    assert last["observation.images.scene"].shape == (48, 64, 3)
    assert abs(last["observation.state"][1] - ds[0]["observation.state"][1]) > 0.05  # the shoulder moved
