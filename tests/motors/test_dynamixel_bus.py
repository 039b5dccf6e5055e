"""DynamixelBus (the real dynamixel_sdk underneath) against the byte-exact Protocol 2.0 emulator on a pty."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dynamixel_sdk as dxl
import pytest
import serial

from embodied_stack.motors.bus import (
    Motor,
    MotorBusError,
    MotorCalibration,
    MotorChecksumError,
    MotorHardwareError,
    MotorTimeoutError,
)
from embodied_stack.motors.dynamixel import DynamixelBus, HardwareStatus
from emulators.dynamixel_bus import OVERLOAD, DynamixelBusEmulator, build_packet

#: a loaded CI machine can stall the emulator thread beyond the SDK's 34 ms reply timeout
LATENCY_MS = 50.0

KOCH = {
    "shoulder_pan": Motor(1, "xl430-w250"),
    "shoulder_lift": Motor(2, "xl430-w250"),
    "elbow_flex": Motor(3, "xl330-m288"),
    "wrist_flex": Motor(4, "xl330-m288"),
    "wrist_roll": Motor(5, "xl330-m288"),
    "gripper": Motor(6, "xl330-m077"),
}
SERVOS = {m.id: m.model for m in KOCH.values()}
REPO = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)


@pytest.fixture
def emu() -> Iterator[DynamixelBusEmulator]:
    with DynamixelBusEmulator(SERVOS) as e:
        yield e
        assert not e.errors  # the emulator met no packet it could not handle


@pytest.fixture
def bus(emu: DynamixelBusEmulator) -> Iterator[DynamixelBus]:
    b = DynamixelBus(emu.port, KOCH, latency_timer_ms=LATENCY_MS)
    b.connect()
    yield b
    b.disconnect()


def test_wire_bytes_match_the_e_manual_examples() -> None:
    """Protocol 2.0 e-manual examples: PING and READ Present_Position of an XM430-W210 (fw 38)."""
    with DynamixelBusEmulator({1: "xm430-w210"}, firmware_version=38, positions={1: 166}) as emu, \
            serial.Serial(emu.port, 1_000_000, timeout=2.0) as port:
        port.write(bytes.fromhex("FF FF FD 00 01 03 00 01 19 4E"))
        assert port.read(14) == bytes.fromhex("FF FF FD 00 01 07 00 55 00 06 04 26 65 5D")
        port.write(bytes.fromhex("FF FF FD 00 01 07 00 02 84 00 04 00 1D 15"))
        assert port.read(15) == bytes.fromhex("FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0")
        assert build_packet(1, 0x01, b"") == bytes.fromhex("FF FF FD 00 01 03 00 01 19 4E")


def test_handshake_and_scan(bus: DynamixelBus) -> None:
    assert bus.is_connected
    assert bus.scan_ids(range(0, 8)) == SERVOS


def test_handshake_names_missing_and_wrong_motors(emu: DynamixelBusEmulator) -> None:
    motors = {**KOCH, "shoulder_pan": Motor(1, "xl330-m288"), "gripper": Motor(7, "xl330-m077")}
    bus = DynamixelBus(emu.port, motors, latency_timer_ms=LATENCY_MS)
    with pytest.raises(MotorBusError) as err:
        bus.connect()
    msg = str(err.value)
    assert "no answer from 'gripper' (id 7)" in msg
    assert "'shoulder_pan' (id 1) is a xl430-w250, expected xl330-m288" in msg
    assert "6: 'xl330-m077'" in msg  # what answers instead
    assert not bus.is_connected


def test_read_write_and_signed_values(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    bus.write("LED", "gripper", 1)
    assert emu.register(6, "LED") == 1
    bus.write("Homing_Offset", "elbow_flex", -1000)
    assert emu.register(3, "Homing_Offset") == -1000
    assert bus.read("Homing_Offset", "elbow_flex") == -1000
    bus.write("Goal_Velocity", "wrist_roll", -200)
    assert bus.read("Goal_Velocity", "wrist_roll") == -200
    assert bus.read("Model_Number", "shoulder_pan") == 1060
    # moving toward a lower goal reads a negative velocity
    bus.write("Torque_Enable", "shoulder_pan", 1)
    bus.write("Goal_Position", "shoulder_pan", 100)
    wait_until(lambda: bus.read("Present_Velocity", "shoulder_pan") < 0)


def test_sync_read_and_sync_write(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    goals = {name: 1000 + 100 * m.id for name, m in KOCH.items()}
    sent_before = emu.stats.statuses_sent
    bus.sync_write("Goal_Position", goals)
    expected = {m.id: goals[n] for n, m in KOCH.items()}
    wait_until(lambda: {i: emu.register(i, "Goal_Position") for i in SERVOS} == expected)
    assert emu.stats.statuses_sent == sent_before  # SYNC_WRITE gets no reply
    assert bus.sync_read("Goal_Position") == goals
    assert bus.sync_read("Present_Position", ["gripper", "elbow_flex"]) == {"gripper": 2048,
                                                                            "elbow_flex": 2048}


def test_byte_stuffing_both_directions(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    value = -131073  # little-endian FF FF FD FF: the header pattern inside the data
    assert (value & 0xFFFFFFFF).to_bytes(4, "little")[:3] == b"\xff\xff\xfd"
    bus.write("Operating_Mode", "shoulder_lift", 4)  # extended position: the whole offset applies
    bus.write("Homing_Offset", "shoulder_lift", value)
    assert (emu.stats.stuffed_received, emu.stats.unstuffed_pattern_received) == (1, 0)
    assert emu.register(2, "Homing_Offset") == value
    assert bus.read("Homing_Offset", "shoulder_lift") == value
    assert emu.stats.stuffed_sent == 1
    # the offset applies: Present = Actual + Homing_Offset
    assert bus.sync_read("Present_Position", ["shoulder_lift"]) == {"shoulder_lift": 2048 + value}
    # a sync write carrying the pattern, then a sync read answering it
    bus.sync_write("Goal_Position", {"shoulder_lift": value, "shoulder_pan": 7})
    assert bus.sync_read("Goal_Position", ["shoulder_pan", "shoulder_lift"]) == {
        "shoulder_pan": 7, "shoulder_lift": value}  # the bus handles packets in order
    assert (emu.stats.stuffed_received, emu.stats.stuffed_sent) == (2, 2)


def test_goal_moves_present_and_a_hand_moves_a_free_joint(bus: DynamixelBus,
                                                           emu: DynamixelBusEmulator) -> None:
    emu.set_actual_position(1, 1500)
    bus.write("Torque_Enable", "shoulder_pan", 1)
    assert bus.read("Goal_Position", "shoulder_pan") == 1500  # torque on holds the pose
    bus.write("Goal_Position", "shoulder_pan", 3000)
    wait_until(lambda: bus.read("Present_Position", "shoulder_pan") == 3000)
    assert bus.read("Moving", "shoulder_pan") == 0
    emu.set_actual_position(6, 1000)  # torque off: the gripper stays where the hand puts it
    assert bus.read("Present_Position", "gripper") == 1000


def test_crc_errors_are_retried_and_counted(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    emu.corrupt_next_replies(1)
    assert bus.read("Present_Position", "elbow_flex") == 2048
    assert (bus.stats.checksum_errors, bus.stats.retries) == (1, 1)
    emu.corrupt_next_replies(1)
    assert bus.sync_read("Present_Position")["gripper"] == 2048
    assert (bus.stats.checksum_errors, bus.stats.retries) == (2, 2)


def test_persistent_crc_errors_raise_after_the_retries(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    emu.corrupt_next_replies(1000)
    with pytest.raises(MotorChecksumError, match=r"'elbow_flex' \(id 3\).*after 3 attempts"):
        bus.read("Present_Position", "elbow_flex")
    assert bus.stats.checksum_errors == 3
    assert "corrupted status packet" in bus.stats.last_error


def test_dead_servo_times_out_naming_the_motor(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    emu.silence(4)
    with pytest.raises(MotorTimeoutError, match=r"no reply from 'wrist_flex' \(id 4\)"):
        bus.sync_read("Present_Position")
    with pytest.raises(MotorTimeoutError, match=r"'wrist_flex' \(id 4\)"):
        bus.read("Present_Position", "wrist_flex")
    assert bus.stats.timeouts == 6
    emu.silence(4, False)
    assert bus.sync_read("Present_Position")["wrist_flex"] == 2048


def test_overload_raises_hardware_error_until_reboot(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    bus.write("Torque_Enable", "wrist_roll", 1)
    emu.set_hardware_error(5, OVERLOAD)
    with pytest.raises(MotorHardwareError, match="overload") as err:
        bus.read("Present_Position", "wrist_roll")
    assert (err.value.motor, err.value.bits, err.value.names) == ("wrist_roll", 0x20, ["overload"])
    with pytest.raises(MotorHardwareError) as err:
        bus.sync_read("Present_Position")
    assert err.value.motor == "wrist_roll"
    assert bus.stats.hardware_errors == 2
    assert bus.stats.hardware_error_bits == {"wrist_roll": 0x20}
    assert bus.stats.retries == 0  # a hardware error is not retried
    emu.silence(1)
    status = bus.read_hardware_status()
    assert status["wrist_roll"] == HardwareStatus(True, 0x20, ("overload",), 5.0, 28.0)
    assert status["shoulder_lift"] == HardwareStatus(True, 0, (), 12.0, 28.0)
    assert status["shoulder_pan"] == HardwareStatus(answered=False)
    assert emu.register(5, "Torque_Enable") == 0  # overload is in the default Shutdown bits
    bus.reboot("wrist_roll")
    assert bus.read("Present_Position", "wrist_roll") == 2048
    assert bus.read_hardware_status()["wrist_roll"].names == ()


def test_status_errors_name_the_cause_and_fix(bus: DynamixelBus) -> None:
    bus.write("Torque_Enable", "elbow_flex", 1)
    with pytest.raises(MotorBusError, match="access error.*Torque_Enable 0") as err:
        bus.write("Homing_Offset", "elbow_flex", 10)
    assert type(err.value) is MotorBusError
    with pytest.raises(MotorBusError, match="data limit error.*Min/Max_Position_Limit"):
        bus.write("Goal_Position", "elbow_flex", 5000)  # Position Control Mode: limits 0..4095
    assert bus.stats.retries == 0


def test_bad_input_is_rejected_with_the_fix(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    with pytest.raises(ValueError, match="did you mean.*Goal_Position"):
        bus.read("Goal_Positon", "gripper")
    with pytest.raises(ValueError, match="2147483648.*-2147483648..2147483647"):
        bus.write("Goal_Position", "gripper", 2**31)
    with pytest.raises(ValueError, match="Present_Position is read-only"):
        bus.sync_write("Present_Position", {"gripper": 1})
    with pytest.raises(ValueError, match="Operating_Mode 4"):
        bus.write_homing_offset("gripper", 2000)
    with pytest.raises(ValueError, match="unknown Dynamixel model 'xl999'.*xl430-w250"):
        DynamixelBus(emu.port, {"x": Motor(1, "xl999")}, latency_timer_ms=LATENCY_MS)
    with pytest.raises(ValueError, match="baud rate 123456.*1000000"):
        DynamixelBus(emu.port, KOCH, baudrate=123456, latency_timer_ms=LATENCY_MS)
    with pytest.raises(ValueError, match="share id 1"):
        DynamixelBus(emu.port, {"a": Motor(1, "xl430-w250"), "b": Motor(1, "xl430-w250")},
                     latency_timer_ms=LATENCY_MS)
    with pytest.raises(ValueError, match="id 300"):
        bus.set_id(1, 300)


def test_set_id_through_the_protocol() -> None:
    with DynamixelBusEmulator({1: "xl330-m288", 2: "xl330-m288"}) as emu:
        bus = DynamixelBus(emu.port, {"gripper": Motor(7, "xl330-m288")}, latency_timer_ms=LATENCY_MS)
        bus.connect(handshake=False)
        with pytest.raises(MotorBusError, match="id 2 is already taken"):
            bus.set_id(1, 2)
        emu.set_register(1, "Torque_Enable", 1)  # set_id switches it off (ID is in EEPROM)
        bus.set_id(1, 7)
        assert emu.servo_ids == [2, 7]
        assert bus.ping(7) == "xl330-m288"
        assert bus.ping(1) is None
        bus.disconnect()
        bus.connect()  # the configured id now answers the handshake
        bus.disconnect()
        emu.set_register(2, "ID", 7)  # two servos at one id answer together: garbled replies
        bus.connect(handshake=False)
        with pytest.raises(MotorChecksumError, match="no two servos share an id"):
            bus.read("Present_Position", "gripper")
        bus.disconnect()


def test_set_baudrate_through_the_protocol() -> None:
    with DynamixelBusEmulator({1: "xl430-w250"}) as emu:
        motors = {"shoulder_pan": Motor(1, "xl430-w250")}
        bus = DynamixelBus(emu.port, motors, latency_timer_ms=LATENCY_MS)
        bus.connect()
        bus.write("Torque_Enable", "shoulder_pan", 1)
        bus.set_baudrate(1, 57_600)  # the port follows the servo
        assert (emu.baudrate(1), bus.baudrate) == (57_600, 57_600)
        assert emu.register(1, "Torque_Enable") == 0
        assert bus.ping(1) == "xl430-w250"
        bus.set_port_baudrate(1_000_000)
        assert bus.ping(1) is None  # nobody listens at 1 Mbaud any more
        bus.disconnect()
        slow = DynamixelBus(emu.port, motors, baudrate=57_600, latency_timer_ms=LATENCY_MS)
        slow.connect()
        assert slow.read("ID", "shoulder_pan") == 1
        slow.disconnect()


def test_homing_offset_sign_a_mid_pose_reads_mid_range(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    bus.write("Operating_Mode", "shoulder_lift", 4)
    emu.set_actual_position(2, 3000)
    present = bus.read("Present_Position", "shoulder_lift")
    assert present == 3000
    offset = bus.homing_offset_for_middle("shoulder_lift", present)
    assert offset == 2048 - 3000  # Dynamixel adds the offset: Present = Actual + Homing_Offset
    bus.write_homing_offset("shoulder_lift", offset)
    assert bus.read("Present_Position", "shoulder_lift") == 2048
    assert bus.homing_offset_for_middle("shoulder_lift", 3000, current_offset=0) == offset  # no bus I/O
    # again from another pose, without resetting the offset first
    emu.set_actual_position(2, 1000)
    present = bus.read("Present_Position", "shoulder_lift")
    bus.write_homing_offset("shoulder_lift", bus.homing_offset_for_middle("shoulder_lift", present))
    assert bus.read("Present_Position", "shoulder_lift") == 2048
    assert bus.read("Homing_Offset", "shoulder_lift") == 1048
    # Position Control Mode takes small offsets
    emu.set_actual_position(3, 2500)
    bus.write_homing_offset("elbow_flex", bus.homing_offset_for_middle("elbow_flex", 2500))
    assert bus.read("Present_Position", "elbow_flex") == 2048


def test_ticks_and_radians_with_calibration(emu: DynamixelBusEmulator) -> None:
    calibration = {"shoulder_pan": MotorCalibration(id=1), "gripper": MotorCalibration(id=6, drive_mode=1)}
    bus = DynamixelBus(emu.port, {n: KOCH[n] for n in calibration}, calibration=calibration,
                       latency_timer_ms=LATENCY_MS)
    bus.connect()
    emu.set_actual_position(1, 3072)
    emu.set_actual_position(6, 3072)
    ticks = bus.sync_read("Present_Position")
    assert bus.to_radians("shoulder_pan", ticks["shoulder_pan"]) == pytest.approx(math.pi / 2)
    assert bus.to_radians("gripper", ticks["gripper"]) == pytest.approx(-math.pi / 2)
    assert bus.to_ticks("gripper", -math.pi / 2) == 3072
    target = bus.to_ticks("shoulder_pan", -0.5)
    bus.write("Torque_Enable", "shoulder_pan", 1)
    bus.write("Goal_Position", "shoulder_pan", target)
    wait_until(lambda: bus.read("Present_Position", "shoulder_pan") == target)
    rad = bus.to_radians("shoulder_pan", bus.read("Present_Position", "shoulder_pan"))
    assert rad == pytest.approx(-0.5, abs=2 * math.pi / 4096)
    bus.disconnect()


def test_out_of_range_readings_reach_the_caller(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    emu.override_reading(3, "Present_Position", 5_000_000)
    emu.override_reading(4, "Present_Position", -70_000)
    values = bus.sync_read("Present_Position")
    assert (values["elbow_flex"], values["wrist_flex"], values["wrist_roll"]) == (5_000_000, -70_000, 2048)
    emu.override_reading(3, "Present_Position", None)
    assert bus.read("Present_Position", "elbow_flex") == 2048


def test_clients_open_and_close_the_port_repeatedly(emu: DynamixelBusEmulator) -> None:
    for i in range(10):
        bus = DynamixelBus(emu.port, KOCH, latency_timer_ms=LATENCY_MS)
        bus.connect()
        assert bus.read("ID", "gripper") == 6, f"round {i}"
        bus.disconnect()
    with serial.Serial(emu.port, 1_000_000) as port:  # a client killed half-way through a packet
        port.write(bytes.fromhex("FF FF FD 00 01 07 00 02"))
    bus = DynamixelBus(emu.port, KOCH, latency_timer_ms=LATENCY_MS)
    bus.connect()
    assert bus.sync_read("ID") == {name: m.id for name, m in KOCH.items()}
    bus.disconnect()


def test_unplugged_adapter_then_replugged(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    emu.unplug()
    assert not os.path.exists(emu.port)
    with pytest.raises(MotorBusError, match="unplugged") as err:
        bus.read("Present_Position", "gripper")
    assert not isinstance(err.value, MotorTimeoutError)
    bus.disconnect()
    with pytest.raises(MotorBusError, match="cannot open"):
        bus.connect()
    emu.replug()
    bus.connect()
    assert bus.read("Present_Position", "gripper") == 2048


def test_servo_power_cycle(bus: DynamixelBus, emu: DynamixelBusEmulator) -> None:
    bus.write("Torque_Enable", "elbow_flex", 1)
    emu.power_off()
    with pytest.raises(MotorTimeoutError):
        bus.sync_read("Present_Position")
    emu.power_on()
    assert bus.read("Torque_Enable", "elbow_flex") == 0  # servos boot with torque off


class _PatientPort(dxl.PortHandler):
    """The SDK's port with a 200 ms reply timeout instead of 34 ms: the plain-SDK test below has no
    retries, and a loaded machine can hold the emulator thread back that long."""

    def setPacketTimeout(self, packet_length: int) -> None:  # noqa: N802 (SDK API)
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = 200.0


def test_reg_write_action_and_broadcast_ping_with_the_sdk(emu: DynamixelBusEmulator) -> None:
    port, packets = _PatientPort(emu.port), dxl.PacketHandler(2.0)
    assert port.openPort()
    try:
        found, result = packets.broadcastPing(port)
        assert result == dxl.COMM_SUCCESS
        assert {i: v[0] for i, v in found.items()} == {1: 1060, 2: 1060, 3: 1200, 4: 1200, 5: 1200, 6: 1190}
        assert packets.regWriteTxRx(port, 3, 116, 4, [0x10, 0x04, 0, 0]) == (dxl.COMM_SUCCESS, 0)
        assert emu.register(3, "Registered_Instruction") == 1
        assert emu.register(3, "Goal_Position") == 2048  # registered, not yet applied
        assert packets.action(port, dxl.BROADCAST_ID) == dxl.COMM_SUCCESS
        wait_until(lambda: emu.register(3, "Goal_Position") == 0x410)  # ACTION is broadcast: no reply
        assert emu.register(3, "Registered_Instruction") == 0
        # the plain SDK sends FF FF FD unstuffed (its addStuffing bug); the emulator still accepts it
        assert packets.write4ByteTxRx(port, 1, 20, 0xFFFDFFFF) == (dxl.COMM_SUCCESS, 0)
        assert emu.register(1, "Homing_Offset") == -131073
        assert (emu.stats.unstuffed_pattern_received, emu.stats.stuffed_received) == (1, 0)
    finally:
        port.closePort()


def test_the_emulator_serves_another_process(emu: DynamixelBusEmulator) -> None:
    script = (
        "import sys\n"
        "from embodied_stack.motors.bus import Motor\n"
        "from embodied_stack.motors.dynamixel import DynamixelBus\n"
        "motors = {'gripper': Motor(6, 'xl330-m077'), 'elbow': Motor(3, 'xl330-m288')}\n"
        "bus = DynamixelBus(sys.argv[1], motors)\n"
        "bus.connect()\n"
        "bus.write('Goal_Position', 'gripper', 1234)\n"
        "print(sorted(bus.sync_read('Present_Position').items()))\n"
        "bus.disconnect()\n"
    )
    out = subprocess.run([sys.executable, "-c", script, emu.port], capture_output=True, text=True, timeout=60,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[('elbow', 2048), ('gripper', 2048)]"
    assert emu.register(6, "Goal_Position") == 1234
