"""FeetechBus (the real scservo_sdk underneath) against the byte-level bus emulator on a pty."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
from embodied_stack.motors.feetech import FeetechBus, decode_sign_magnitude, encode_sign_magnitude
from emulators.feetech_bus import OVER_CURRENT, OVERLOAD, FeetechBusEmulator, instruction_packet

MOTORS = {"shoulder_pan": Motor(1, "sts3215"), "shoulder_lift": Motor(2, "sts3215"),
          "gripper": Motor(3, "sts3215")}
#: generous reply timeout: a 2-core machine under load can stall the emulator thread for tens of ms. The
#: handshake tests keep the SDK's 34 ms because a failed handshake scans 20 ids.
TIMEOUT_MS = 100.0


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)


@pytest.fixture
def emu() -> Iterator[FeetechBusEmulator]:
    with FeetechBusEmulator({1: "sts3215", 2: "sts3215", 3: "sts3215"}) as e:
        yield e


@pytest.fixture
def bus(emu: FeetechBusEmulator) -> Iterator[FeetechBus]:
    b = FeetechBus(emu.port, MOTORS, reply_timeout_ms=TIMEOUT_MS)
    b.connect()
    yield b
    b.disconnect()


# --- handshake ---------------------------------------------------------------------------------
def test_handshake_finds_the_configured_motors(bus: FeetechBus) -> None:
    assert bus.is_connected
    assert bus.ping(1) == "sts3215"
    assert bus.scan_ids(range(0, 6)) == {1: "sts3215", 2: "sts3215", 3: "sts3215"}


def test_missing_id_names_it_and_what_answered(emu: FeetechBusEmulator) -> None:
    motors = {"shoulder_pan": Motor(1, "sts3215"), "wrist_roll": Motor(5, "sts3215")}
    bus = FeetechBus(emu.port, motors)
    with pytest.raises(MotorBusError) as e:
        bus.connect()
    msg = str(e.value)
    assert "'wrist_roll' (id 5)" in msg and "{1: 'sts3215', 2: 'sts3215', 3: 'sts3215'}" in msg
    assert "shoulder_pan" not in msg
    assert not bus.is_connected


def test_wrong_model_is_named() -> None:
    with FeetechBusEmulator({1: "sts3250"}) as emu:
        bus = FeetechBus(emu.port, {"elbow": Motor(1, "sts3215")})
        with pytest.raises(MotorBusError, match=r"'elbow' \(id 1\) is a sts3250, expected sts3215"):
            bus.connect()


def test_bad_configuration_is_refused_with_the_fix(emu: FeetechBusEmulator) -> None:
    with pytest.raises(ValueError, match="unknown Feetech model 'sts9999'"):
        FeetechBus(emu.port, {"a": Motor(1, "sts9999")})
    with pytest.raises(ValueError, match="protocol 1"):
        FeetechBus(emu.port, {"a": Motor(1, "scs0009")})
    with pytest.raises(ValueError, match="baud rate 9600 is not one"):
        FeetechBus(emu.port, MOTORS, baudrate=9600)
    with pytest.raises(MotorBusError, match="cannot open /dev/does-not-exist"):
        FeetechBus("/dev/does-not-exist", MOTORS).connect()


# --- read / write ------------------------------------------------------------------------------
def test_read_and_write_registers(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    assert bus.read("Model_Number", "shoulder_pan") == 777
    assert bus.read("Return_Delay_Time", "gripper") == 250  # STS3215 default: 500 us
    bus.write("Return_Delay_Time", "gripper", 0)
    bus.write("Acceleration", "shoulder_lift", 254)
    assert emu.register(3, "Return_Delay_Time") == 0
    assert emu.register(2, "Acceleration") == 254
    assert bus.read("Acceleration", "shoulder_lift") == 254


def test_register_mistakes_get_clear_errors(bus: FeetechBus) -> None:
    with pytest.raises(ValueError, match=r"unknown register 'Goal_Positon'.*did you mean \['Goal_Position'"):
        bus.read("Goal_Positon", "gripper")
    with pytest.raises(ValueError, match="Present_Position is read-only"):
        bus.write("Present_Position", "gripper", 10)
    with pytest.raises(ValueError, match="Acceleration=300 is outside 0..255"):
        bus.write("Acceleration", "gripper", 300)


def test_sync_read_and_sync_write(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    for i, ticks in ((1, 100), (2, 2500), (3, 4000)):
        emu.set_actual_position(i, ticks)
    sent = emu.instructions["sync_read"]
    assert bus.sync_read("Present_Position") == {"shoulder_pan": 100, "shoulder_lift": 2500, "gripper": 4000}
    assert emu.instructions["sync_read"] == sent + 1
    subset = bus.sync_read("Present_Position", ["gripper", "shoulder_pan"])
    assert subset == {"gripper": 4000, "shoulder_pan": 100}

    bus.sync_write("Goal_Position", {"shoulder_pan": 1000, "gripper": 3000})
    wait_until(lambda: emu.instructions["sync_write"] == 1)  # no reply to wait for
    assert (emu.register(1, "Goal_Position"), emu.register(3, "Goal_Position")) == (1000, 3000)


# --- sign-magnitude -----------------------------------------------------------------------------
def test_sign_magnitude_codec() -> None:
    assert encode_sign_magnitude(-1000, 11) == 0x800 | 1000
    assert encode_sign_magnitude(300, 15) == 300
    for value in (-2047, -1, 0, 1, 2047):
        assert decode_sign_magnitude(encode_sign_magnitude(value, 11), 11) == value
    with pytest.raises(ValueError, match="-2048 is outside"):
        encode_sign_magnitude(-2048, 11)


def test_negative_values_on_the_wire(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    bus.write("Homing_Offset", "shoulder_pan", -1000)
    assert emu.raw_register(1, "Homing_Offset") == 0x800 | 1000
    assert bus.read("Homing_Offset", "shoulder_pan") == -1000
    assert bus.read("Present_Position", "shoulder_pan") == 3048  # Present = Actual - Offset = 2048 + 1000

    bus.write("Goal_Velocity", "gripper", -300)
    assert emu.raw_register(3, "Goal_Velocity") == 0x8000 | 300
    assert bus.read("Goal_Velocity", "gripper") == -300

    # moving toward lower ticks reads a negative velocity
    bus.write("Goal_Velocity", "gripper", 500)
    bus.write("Goal_Position", "gripper", 0)
    bus.write("Torque_Enable", "gripper", 1)
    wait_until(lambda: bus.read("Present_Velocity", "gripper") == -500)

    emu.override_reading(2, "Present_Position", 0x8000 | 5)  # an out-of-range reading passes through decoded
    assert bus.read("Present_Position", "shoulder_lift") == -5


# --- homing offset ------------------------------------------------------------------------------
def test_homing_offset_beyond_2047_is_refused(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    with pytest.raises(ValueError, match=r"offset 2048 ticks for 'gripper' is outside \+-2047.*bit 11"):
        bus.write_homing_offset("gripper", 2048)
    with pytest.raises(ValueError, match=r"Homing_Offset=-2100 is outside \+-2047"):
        bus.write("Homing_Offset", "gripper", -2100)
    assert emu.register(3, "Homing_Offset") == 0  # nothing was written


@pytest.mark.parametrize("actual", [0, 1, 1000, 2048, 3000, 4095])
def test_homing_offset_for_middle_centres_the_pose(bus: FeetechBus, emu: FeetechBusEmulator,
                                                   actual: int) -> None:
    bus.calibration["gripper"] = MotorCalibration(id=3)
    bus.write_homing_offset("gripper", 700)  # start from some other calibration
    emu.set_actual_position(3, actual)
    present = bus.read("Present_Position", "gripper")
    offset = bus.homing_offset_for_middle("gripper", present, current_offset=700)
    bus.write_homing_offset("gripper", offset)
    expected = 2047 if actual == 0 else 2048  # 0 would need -2048, one past the register's range
    assert bus.read("Present_Position", "gripper") == expected
    assert bus.calibration["gripper"].homing_offset == offset
    emu.power_cycle(3)  # written with Lock = 0: it persists
    assert bus.read("Homing_Offset", "gripper") == offset


# --- motion -------------------------------------------------------------------------------------
def test_present_position_follows_the_goal(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    emu.set_actual_position(1, 1000)
    bus.write("Goal_Position", "shoulder_pan", 1000)
    bus.write("Torque_Enable", "shoulder_pan", 1)
    bus.write("Goal_Position", "shoulder_pan", 2500)
    wait_until(lambda: abs(bus.read("Present_Position", "shoulder_pan") - 2500) <= 1)
    wait_until(lambda: bus.read("Moving", "shoulder_pan") == 0)
    # torque off: the joint stays where a hand puts it
    bus.write("Torque_Enable", "shoulder_pan", 0)
    emu.set_actual_position(1, 300)
    assert bus.read("Present_Position", "shoulder_pan") == 300


# --- faults -------------------------------------------------------------------------------------
def test_checksum_errors_are_retried_and_counted(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    emu.set_actual_position(2, 1234)
    emu.corrupt_next_replies(2)
    assert bus.read("Present_Position", "shoulder_lift") == 1234
    assert (bus.stats.checksum_errors, bus.stats.retries) == (2, 2)

    emu.corrupt_next_replies(1)  # first packet of a sync read
    assert bus.sync_read("Present_Position")["shoulder_lift"] == 1234
    assert bus.stats.checksum_errors == 3

    emu.corrupt_next_replies(100)
    with pytest.raises(MotorChecksumError, match=r"Present_Position of 'shoulder_lift'.*after 3 attempts"):
        bus.read("Present_Position", "shoulder_lift")
    assert bus.stats.checksum_errors == 6
    assert "corrupt" in bus.stats.last_error


def test_dead_servo_times_out_naming_the_motor(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    emu.set_alive(2, False)
    with pytest.raises(MotorTimeoutError, match=r"'shoulder_lift' \(id 2\).*after 3 attempts"):
        bus.read("Present_Position", "shoulder_lift")
    with pytest.raises(MotorTimeoutError, match=r"no reply from 'shoulder_lift' \(id 2\)"):
        bus.sync_read("Present_Position")
    assert bus.stats.timeouts == 6
    assert bus.read("Present_Position", "gripper") == 2048  # the others still answer
    emu.set_alive(2, True)
    assert bus.sync_read("Present_Position")["shoulder_lift"] == 2048


def test_bus_disconnect_and_reconnect(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    emu.disconnect()
    with pytest.raises(MotorTimeoutError, match="no reply from 'shoulder_pan'"):
        bus.sync_read("Present_Position")
    bus.sync_write("Goal_Position", {"gripper": 100})  # lost: nobody heard it
    wait_until(lambda: emu.instructions["sync_write"] == 1)
    emu.reconnect()
    assert emu.register(3, "Goal_Position") == 2048
    assert len(bus.sync_read("Present_Position")) == 3


def test_error_bits_raise_hardware_errors_with_names(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    emu.set_error_bits(3, OVERLOAD | OVER_CURRENT)
    with pytest.raises(MotorHardwareError, match=r"'gripper' \(id 3\).*over_current, overload") as e:
        bus.read("Present_Position", "gripper")
    assert (e.value.motor, e.value.bits, e.value.names) == ("gripper", 40, ["over_current", "overload"])
    assert "torque" in str(e.value)  # says what to do
    with pytest.raises(MotorHardwareError, match="overload"):
        bus.sync_read("Present_Position")
    with pytest.raises(MotorHardwareError, match="overload"):
        bus.write("Goal_Position", "gripper", 1000)
    assert bus.stats.hardware_errors == 3
    assert bus.stats.retries == 0  # not retried: the servo answered
    assert bus.stats.hardware_error_bits == {"gripper": 40}

    status = bus.read_hardware_status()  # diagnostics report instead of raising
    assert status["gripper"].names == ("over_current", "overload")
    assert status["shoulder_pan"].bits == 0 and status["shoulder_pan"].voltage_v == pytest.approx(12.0)
    emu.set_alive(1, False)
    assert not bus.read_hardware_status()["shoulder_pan"].answered
    emu.set_error_bits(3, 0)
    assert bus.read("Present_Position", "gripper") == 2048


# --- set-up: id and baud rate through the protocol -------------------------------------------------
def test_set_id_persists_across_power_cycles() -> None:
    with FeetechBusEmulator({1: "sts3215"}) as emu:
        bus = FeetechBus(emu.port, {"new": Motor(4, "sts3215")}, reply_timeout_ms=TIMEOUT_MS)
        bus.connect(handshake=False)
        bus.set_id(1, 4)
        assert emu.ids == [4] and bus.ping(1) is None and bus.ping(4) == "sts3215"
        emu.power_cycle()
        assert emu.ids == [4]
        assert emu.register(4, "Lock") == 1  # relocked after the write
        bus.disconnect()
        scanning = FeetechBus(emu.port, {"new": Motor(4, "sts3215")})  # SDK timeout: the error scans 20 ids
        scanning.connect(handshake=False)
        with pytest.raises(MotorTimeoutError, match="no servo answers at id 9.*answer: {4: 'sts3215'}"):
            scanning.set_id(9, 5)


def test_set_id_refuses_a_taken_id(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    with pytest.raises(MotorBusError, match="id 2 is already used by a sts3215"):
        bus.set_id(1, 2)
    assert emu.ids == [1, 2, 3]


def test_set_baudrate_moves_servo_and_port() -> None:
    with FeetechBusEmulator({1: "sts3215"}) as emu:
        bus = FeetechBus(emu.port, {"a": Motor(1, "sts3215")}, reply_timeout_ms=TIMEOUT_MS)
        bus.connect()
        bus.set_baudrate(1, 500_000)
        assert bus.baudrate == 500_000 and bus.read("Baud_Rate", "a") == 1
        emu.power_cycle()
        assert bus.read("Model_Number", "a") == 777  # persisted: still at 500 kbaud
        bus.set_port_baudrate(1_000_000)
        assert bus.ping(1) is None  # a client at the old rate hears nothing
        bus.disconnect()
        with pytest.raises(MotorBusError, match=r"no answer from 'a' \(id 1\).*ids that answer: {}"):
            FeetechBus(emu.port, {"a": Motor(1, "sts3215")}).connect()


# --- units ---------------------------------------------------------------------------------------
def test_ticks_radians_with_calibration(bus: FeetechBus, emu: FeetechBusEmulator) -> None:
    bus.calibration = {"shoulder_pan": MotorCalibration(id=1),
                       "gripper": MotorCalibration(id=3, drive_mode=1)}
    emu.set_actual_position(1, 3072)
    emu.set_actual_position(3, 3072)
    ticks = bus.sync_read("Present_Position", ["shoulder_pan", "gripper"])
    assert bus.to_radians("shoulder_pan", ticks["shoulder_pan"]) == pytest.approx(math.pi / 2)
    assert bus.to_radians("gripper", ticks["gripper"]) == pytest.approx(-math.pi / 2)  # drive_mode inverts
    assert bus.to_ticks("gripper", -math.pi / 2) == 3072
    assert bus.to_ticks("shoulder_pan", 0.0) == 2048
    with pytest.raises(MotorBusError, match="'shoulder_lift'.*no calibration"):
        bus.to_radians("shoulder_lift", 2048)


# --- the port -------------------------------------------------------------------------------------
def test_port_survives_repeated_open_and_close(emu: FeetechBusEmulator) -> None:
    bus = FeetechBus(emu.port, MOTORS, reply_timeout_ms=TIMEOUT_MS)
    for k in range(20):
        bus.connect()
        emu.set_actual_position(1, 100 + k)
        assert bus.read("Present_Position", "shoulder_pan") == 100 + k
        bus.disconnect()
    with pytest.raises(MotorBusError, match="before connect"):
        bus.read("Present_Position", "shoulder_pan")


def test_another_process_can_drive_the_emulator(emu: FeetechBusEmulator) -> None:
    emu.set_actual_position(2, 777)
    code = ("import sys; from embodied_stack.motors.bus import Motor; "
            "from embodied_stack.motors.feetech import FeetechBus; "
            "b = FeetechBus(sys.argv[1], {'m': Motor(2, 'sts3215')}); b.connect(); "
            "b.write('Acceleration', 'm', 77); print(b.read('Present_Position', 'm'))")
    out = subprocess.run([sys.executable, "-c", code, emu.port], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "777"
    assert emu.register(2, "Acceleration") == 77


def test_emulator_speaks_the_documented_bytes(emu: FeetechBusEmulator) -> None:
    """Hand-computed packets (checksum = ~(id + len + instr/err + params) & 0xFF), without the SDK."""
    ping_reply = bytes.fromhex("FF FF 01 02 00 FC")
    with serial.Serial(emu.port, 1_000_000, timeout=5) as s:
        s.write(bytes.fromhex("FF FF 01 02 01 FB"))  # PING id 1
        assert s.read(6) == ping_reply
        s.write(bytes.fromhex("FF FF 01 04 02 03 02 F3"))  # READ id 1, address 3 (Model_Number), 2 bytes
        assert s.read(8) == bytes.fromhex("FF FF 01 04 00 09 03 EE")  # 777 = 0x0309, little-endian
        s.write(bytes.fromhex("FF FF 01 02 01 00"))  # bad checksum: ignored, as by a servo...
        s.write(bytes.fromhex("FF FF 01 02 01 FB"))
        assert s.read(6) == ping_reply  # ...so the next bytes are the ping's reply
        s.write(instruction_packet(1, 0x04, bytes([42, 0x00, 0x04])))  # REG_WRITE Goal_Position = 1024
        assert s.read(6) == ping_reply[:4] + bytes([0, 0xFC])
        assert emu.register(1, "Goal_Position") == 2048  # registered, not applied
        s.write(instruction_packet(0xFE, 0x05))  # broadcast ACTION: no reply
        s.write(bytes.fromhex("FF FF 01 02 01 FB"))
        assert s.read(6) == ping_reply
        assert emu.register(1, "Goal_Position") == 1024
