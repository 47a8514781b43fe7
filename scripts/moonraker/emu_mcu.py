#!/usr/bin/env python3
"""Emulated Klipper micro-controller on a pseudo-terminal, for tests and CI.

    python3 emu_mcu.py /path/to/ttyMCU

Opens a pty, symlinks its slave end to the given path (the `[mcu] serial:` of
printer.cfg) and speaks the Klipper MCU wire protocol on the master end, so a
real klippy host can connect, configure it, reach `ready` and print.

This is an independent implementation (Python standard library only), written
from polyprint's spec (shared/specs/moonraker.md §4) and from Klipper's
published protocol documentation (docs/Protocol.md, docs/MCU_Commands.md).
It contains no Klipper code.

What it emulates:

* framing: <len><seq><content><crc16 hi><crc16 lo><0x7e>, CRC-16/MCRF4XX,
  resync on 0x7e, an ack after every good block, a nak (empty block with the
  expected seq) for an out-of-order block;
* Klipper's signed VLQ integers and length-prefixed strings;
* `identify`: chunks of a zlib-compressed JSON data dictionary declaring the
  commands, responses, pin enumeration gpio0..gpio63 and constants below;
* the config phase (allocate_oids, config_*, finalize_config, get_config);
* a 1 MHz clock that tracks real monotonic time (get_clock, get_uptime);
* soft-PWM digital outputs driving a first-order thermal model of two heaters
  (gpio10 -> thermistor on gpio20, gpio11 -> thermistor on gpio21), reported as
  `analog_in_state` sums of ADC samples through a "Generic 3950" divider;
* steppers that only count steps; endstops that never trigger; trsync;
* emergency_stop -> shutdown; `reset` -> behaves like a rebooting MCU (forgets
  its configuration and ignores everything until the next `identify`);
* periodic `stats`.

Environment: EMU_LOG=1 logs received commands (minus the high-rate ones) to
stderr, EMU_LOG=2 logs every command and response.
Exits cleanly on SIGTERM/SIGINT and removes its symlink.
"""

import json
import math
import os
import select
import signal
import sys
import time
import tty
import zlib

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

CLOCK_FREQ = 1000000
ADC_MAX = 4095
MOVE_COUNT = 1024
STATS_INTERVAL = 5.0          # seconds between `stats` reports
AMBIENT = 25.0                # degrees C

SYNC = 0x7E
BLOCK_MIN = 5
BLOCK_MAX = 64
SEQ_HIGH = 0x10

# Strings the MCU can report as the reason of a shutdown (static_string_id).
STATIC_STRINGS = {
    "Emulated MCU: emergency stop": 2,
    "Shutdown cleared when not shutdown": 3,
}
SHUTDOWN_ESTOP = 2
SHUTDOWN_CLEARED = 3

# Message formats -> ids. 0 and 1 are fixed by the protocol; the rest are ours
# (they must stay within -32..95 so that each id is a single VLQ byte).
COMMANDS = [
    "identify offset=%u count=%c",
    "get_config",
    "allocate_oids count=%c",
    "finalize_config crc=%u",
    "get_clock",
    "get_uptime",
    "emergency_stop",
    "reset",
    "config_reset",
    "clear_shutdown",
    "config_digital_out oid=%c pin=%u value=%c default_value=%c max_duration=%u",
    "set_digital_out_pwm_cycle oid=%c cycle_ticks=%u",
    "queue_digital_out oid=%c clock=%u on_ticks=%u",
    "update_digital_out oid=%c value=%c",
    "set_digital_out pin=%u value=%c",
    "config_analog_in oid=%c pin=%u",
    "query_analog_in oid=%c clock=%u sample_ticks=%u sample_count=%c"
    " rest_ticks=%u min_value=%hu max_value=%hu range_check_count=%c",
    "config_stepper oid=%c step_pin=%c dir_pin=%c invert_step=%c step_pulse_ticks=%u",
    "queue_step oid=%c interval=%u count=%hu add=%hi",
    "set_next_step_dir oid=%c dir=%c",
    "reset_step_clock oid=%c clock=%u",
    "stepper_get_position oid=%c",
    "stepper_stop_on_trigger oid=%c trsync_oid=%c",
    "config_endstop oid=%c pin=%c pull_up=%c",
    "endstop_home oid=%c clock=%u sample_ticks=%u sample_count=%c"
    " rest_ticks=%u pin_value=%c trsync_oid=%c trigger_reason=%c",
    "endstop_query_state oid=%c",
    "config_trsync oid=%c",
    "trsync_start oid=%c report_clock=%u report_ticks=%u expire_reason=%c",
    "trsync_set_timeout oid=%c clock=%u",
    "trsync_trigger oid=%c reason=%c",
]
RESPONSES = [
    "identify_response offset=%u data=%.*s",
    "config is_config=%c crc=%u is_shutdown=%c move_count=%hu",
    "clock clock=%u",
    "uptime high=%u clock=%u",
    "shutdown clock=%u static_string_id=%hu",
    "is_shutdown static_string_id=%hu",
    "starting",
    "stats count=%u sum=%u sumsq=%u",
    "analog_in_state oid=%c next_clock=%u value=%hu",
    "stepper_position oid=%c pos=%i",
    "endstop_state oid=%c homing=%c next_clock=%u pin_value=%c",
    "trsync_state oid=%c can_trigger=%c trigger_reason=%c clock=%u",
]
FIXED_IDS = {"identify_response": 0, "identify": 1}

# Commands a real MCU still runs while shut down; anything else is answered
# with `is_shutdown`.
ALLOWED_IN_SHUTDOWN = {
    "identify", "get_config", "get_clock", "get_uptime", "emergency_stop",
    "reset", "config_reset", "clear_shutdown", "stepper_get_position",
    "endstop_query_state",
}
# High-rate commands left out of the EMU_LOG=1 log.
NOISY = {"queue_step", "set_next_step_dir", "reset_step_clock", "get_clock",
         "queue_digital_out", "trsync_set_timeout"}

# Thermal model: heater pin -> (name, thermistor pin, degC/s at full power,
# loss per second as a fraction of (T - ambient)).
HEATERS = {
    10: ("extruder", 20, 30.0, 0.06),
    11: ("heater_bed", 21, 5.0, 0.04),
}
# "Generic 3950" thermistor: beta 3950, 100 kOhm at 25 C, 4.7 kOhm pull-up.
BETA = 3950.0
R25 = 100000.0
PULLUP = 4700.0

LOG_LEVEL = int(os.environ.get("EMU_LOG", "0") or 0)


def log(msg, level=1):
    if LOG_LEVEL >= level:
        sys.stderr.write("[emu_mcu %.3f] %s\n" % (time.monotonic(), msg))
        sys.stderr.flush()


# ---------------------------------------------------------------------------
# Wire format helpers
# ---------------------------------------------------------------------------

def crc16_mcrf4xx(data):
    """CRC-16/MCRF4XX: reflected polynomial 0x1021 (0x8408), init 0xFFFF,
    no final xor. Check value for b"123456789" is 0x6F91."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0x8408
            else:
                crc >>= 1
    return crc


def vlq_append(out, value):
    """Append `value` in Klipper's signed VLQ form: big-endian groups of 7 bits,
    0x80 = "more follows"; the first group is sign-extended from bit 5, so
    n bytes hold -(2**(7n-2)) .. 3*2**(7n-2)-1."""
    value = int(value)
    if value >= 1 << 31:              # unsigned 32-bit values as their signed twin
        value -= 1 << 32
    nbytes = 1
    while nbytes < 5 and not (-(1 << (7 * nbytes - 2)) <= value < (3 << (7 * nbytes - 2))):
        nbytes += 1
    for shift in range(7 * (nbytes - 1), 0, -7):
        out.append(((value >> shift) & 0x7F) | 0x80)
    out.append(value & 0x7F)


def vlq_read(buf, pos):
    """Read one VLQ integer at buf[pos]; return (signed value, next pos)."""
    byte = buf[pos]
    pos += 1
    value = byte & 0x7F
    if byte & 0x60 == 0x60:           # negative: sign-extend the first group
        value -= 0x80
    while byte & 0x80:
        byte = buf[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
    return value, pos


STRING_TYPES = ("%s", "%*s", "%.*s")
SIGNED_TYPES = ("%i", "%hi")


class MessageType:
    """One message format, e.g. "queue_step oid=%c interval=%u count=%hu add=%hi"."""

    def __init__(self, msgid, fmt):
        self.msgid = msgid
        self.fmt = fmt
        parts = fmt.split()
        self.name = parts[0]
        self.params = [tuple(p.split("=", 1)) for p in parts[1:]]

    def decode(self, buf, pos):
        """Parse the parameters after the id byte; return (dict, next pos)."""
        args = {}
        for pname, ptype in self.params:
            if ptype in STRING_TYPES:
                length = buf[pos]
                args[pname] = bytes(buf[pos + 1:pos + 1 + length])
                pos += 1 + length
            else:
                value, pos = vlq_read(buf, pos)
                if ptype not in SIGNED_TYPES:
                    value &= 0xFFFFFFFF
                args[pname] = value
        return args, pos

    def encode(self, **args):
        out = bytearray()
        vlq_append(out, self.msgid)
        for pname, ptype in self.params:
            value = args[pname]
            if ptype in STRING_TYPES:
                out.append(len(value))
                out += value
            else:
                vlq_append(out, value)
        return bytes(out)


def build_dictionary():
    """Assign ids and return (commands by id, responses by name, zlib data)."""
    ids = {}
    next_id = 2
    for fmt in COMMANDS + RESPONSES:
        name = fmt.split()[0]
        if name in FIXED_IDS:
            ids[fmt] = FIXED_IDS[name]
        else:
            ids[fmt] = next_id
            next_id += 1
    assert next_id <= 96, "message ids must fit one VLQ byte"
    dictionary = {
        "version": "polyprint-emu-mcu-0.1",
        "build_versions": "python-emulator",
        "commands": {fmt: ids[fmt] for fmt in COMMANDS},
        "responses": {fmt: ids[fmt] for fmt in RESPONSES},
        "enumerations": {
            "pin": {"gpio0": [0, 64]},
            "static_string_id": STATIC_STRINGS,
        },
        # No SERIAL_BAUD: klippy then restarts us with the `reset` command.
        "config": {
            "MCU": "polyprint_emu",
            "CLOCK_FREQ": CLOCK_FREQ,
            "STATS_SUMSQ_BASE": 256,
            "ADC_MAX": ADC_MAX,
            "PWM_MAX": 255,
        },
    }
    blob = zlib.compress(json.dumps(dictionary, separators=(",", ":")).encode(), 9)
    commands = {ids[f]: MessageType(ids[f], f) for f in COMMANDS}
    responses = {MessageType(ids[f], f).name: MessageType(ids[f], f) for f in RESPONSES}
    return commands, responses, blob


def thermistor_adc(temp):
    """ADC fraction (0..1) of a Generic 3950 thermistor at `temp` degC."""
    kelvin = max(temp, -200.0) + 273.15
    resistance = R25 * math.exp(BETA * (1.0 / kelvin - 1.0 / 298.15))
    return resistance / (resistance + PULLUP)


# ---------------------------------------------------------------------------
# MCU objects
# ---------------------------------------------------------------------------

class DigitalOut:
    def __init__(self, pin, value, default_value):
        self.pin = pin
        self.default_value = default_value
        self.cycle_ticks = 0
        self.duty = float(value)
        self.pending = []             # [(clock64, duty)] in arrival order


class AnalogIn:
    def __init__(self, pin):
        self.pin = pin
        self.next_clock = None        # 64-bit clock of the next report, or None
        self.rest_ticks = 0
        self.sample_count = 1


class Heater:
    def __init__(self, name, sensor_pin, rate, loss):
        self.name = name
        self.sensor_pin = sensor_pin
        self.rate = rate
        self.loss = loss
        self.temp = AMBIENT

    def advance(self, duty, dt):
        """Exact solution of dT/dt = rate*duty - loss*(T - ambient) over dt."""
        if dt <= 0.0:
            return
        settle = AMBIENT + self.rate * duty / self.loss
        self.temp = settle + (self.temp - settle) * math.exp(-self.loss * dt)


# ---------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------

class Emulator:
    def __init__(self, link_path):
        self.link_path = link_path
        self.commands, self.responses, self.dictionary = build_dictionary()
        self.t0 = time.monotonic()
        self.heaters = {pin: Heater(*spec) for pin, spec in HEATERS.items()}
        self.last_physics = self.t0
        self.next_stats = self.t0 + STATS_INTERVAL
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.stop = False
        self.expect_seq = None        # None: accept the next block with any seq
        self.identified = False       # seen an identify since start/reset
        self.rebooting = False        # after `reset`, until the next identify
        self.counts = {}
        self.reset_state()
        log("dictionary: %d messages, %d bytes compressed"
            % (len(COMMANDS) + len(RESPONSES), len(self.dictionary)))

    def reset_state(self):
        """Power-on state: unconfigured, not shut down, no objects."""
        self.is_config = 0
        self.config_crc = 0
        self.is_shutdown = False
        self.shutdown_reason = 0
        self.oids = {}
        self.stepper_dir = {}
        self.stepper_pos = {}

    # -- clock ---------------------------------------------------------------
    def clock64(self, now=None):
        if now is None:
            now = time.monotonic()
        return int((now - self.t0) * CLOCK_FREQ)

    def clock_time(self, clock64):
        return self.t0 + clock64 / CLOCK_FREQ

    def widen(self, clock32):
        """The 64-bit clock nearest to now whose low 32 bits are clock32."""
        now = self.clock64()
        delta = ((clock32 - now + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
        return now + delta

    # -- output --------------------------------------------------------------
    def send_block(self, content=b""):
        seq = SEQ_HIGH | ((self.expect_seq or 0) & 0x0F)
        block = bytearray((len(content) + BLOCK_MIN, seq))
        block += content
        crc = crc16_mcrf4xx(block)
        block += bytes((crc >> 8, crc & 0xFF, SYNC))
        self.outbuf += block
        if len(self.outbuf) > 65536:
            # Nobody is reading the pty (klippy gone): keep only recent data.
            del self.outbuf[:-4096]

    def respond(self, name, **args):
        msg = self.responses[name]
        log("-> %s %s" % (name, args), 2)
        self.send_block(msg.encode(**args))

    def flush(self, fd):
        while self.outbuf:
            try:
                written = os.write(fd, self.outbuf)
            except BlockingIOError:
                return
            except OSError as exc:
                log("write error: %s" % exc)
                self.outbuf.clear()
                return
            del self.outbuf[:written]

    # -- input ---------------------------------------------------------------
    def feed(self, data):
        self.inbuf += data
        while len(self.inbuf) >= BLOCK_MIN:
            length = self.inbuf[0]
            if (length < BLOCK_MIN or length > BLOCK_MAX
                    or self.inbuf[1] & 0xF0 != SEQ_HIGH):
                self.resync()
                continue
            if len(self.inbuf) < length:
                return                # wait for the rest of the block
            block = self.inbuf[:length]
            crc = crc16_mcrf4xx(block[:-3])
            if block[-1] != SYNC or block[-3] != crc >> 8 or block[-2] != crc & 0xFF:
                self.resync()
                continue
            del self.inbuf[:length]
            self.handle_block(block)

    def resync(self):
        """Drop bytes up to and including the next sync byte."""
        idx = self.inbuf.find(SYNC)
        if idx < 0:
            self.inbuf.clear()
        else:
            del self.inbuf[:idx + 1]

    def parse_messages(self, content):
        msgs = []
        pos = 0
        while pos < len(content):
            msgid, pos = vlq_read(content, pos)
            msg = self.commands.get(msgid)
            if msg is None:
                log("unknown command id %d; rest of block dropped" % msgid)
                break
            try:
                args, pos = msg.decode(content, pos)
            except IndexError:
                log("truncated %s; rest of block dropped" % msg.name)
                break
            msgs.append((msg.name, args))
        return msgs

    def handle_block(self, block):
        seq = block[1] & 0x0F
        msgs = self.parse_messages(block[2:-3])
        if self.rebooting:
            # A rebooting MCU hears nothing until the host identifies it again.
            names = [name for name, _ in msgs]
            if "identify" not in names:
                return
            msgs = msgs[names.index("identify"):]
            self.rebooting = False
            self.expect_seq = None
        if self.expect_seq is not None and seq != self.expect_seq:
            self.send_block()         # nak: empty block carrying the seq we want
            return
        self.expect_seq = (seq + 1) & 0x0F
        for name, args in msgs:
            self.counts[name] = self.counts.get(name, 0) + 1
            log("<- %s %s" % (name, args), 2 if name in NOISY else 1)
            if self.is_shutdown and name not in ALLOWED_IN_SHUTDOWN:
                self.respond("is_shutdown", static_string_id=self.shutdown_reason)
                continue
            try:
                getattr(self, "cmd_" + name)(**args)
            except (KeyError, AttributeError, TypeError, ValueError) as exc:
                # e.g. an oid that was never configured; a real MCU would
                # shut down, we just report it.
                log("error in %s %s: %r" % (name, args, exc), 0)
            if self.rebooting:
                return                # `reset`: no ack, ignore the rest
        self.send_block()             # ack

    # -- shutdown ------------------------------------------------------------
    def shutdown(self, reason):
        if self.is_shutdown:
            return
        self.advance_physics()
        self.is_shutdown = True
        self.shutdown_reason = reason
        for obj in self.oids.values():
            if isinstance(obj, DigitalOut):
                obj.pending.clear()
                obj.duty = float(obj.default_value)
            elif isinstance(obj, AnalogIn):
                obj.next_clock = None
        log("shutdown (reason %d)" % reason)
        self.respond("shutdown", clock=self.clock64() & 0xFFFFFFFF,
                     static_string_id=reason)

    # -- command handlers ----------------------------------------------------
    def cmd_identify(self, offset, count):
        if not self.identified:
            log("host identifying")
        self.identified = True
        self.respond("identify_response", offset=offset,
                     data=self.dictionary[offset:offset + count])

    def cmd_get_config(self):
        self.respond("config", is_config=self.is_config, crc=self.config_crc,
                     is_shutdown=int(self.is_shutdown), move_count=MOVE_COUNT)

    def cmd_allocate_oids(self, count):
        self.oids = {}

    def cmd_finalize_config(self, crc):
        self.is_config = 1
        self.config_crc = crc
        log("configured: %d oids, crc %08x" % (len(self.oids), crc))

    def cmd_get_clock(self):
        self.respond("clock", clock=self.clock64() & 0xFFFFFFFF)

    def cmd_get_uptime(self):
        now = self.clock64()
        self.respond("uptime", high=now >> 32, clock=now & 0xFFFFFFFF)

    def cmd_emergency_stop(self):
        self.shutdown(SHUTDOWN_ESTOP)

    def cmd_reset(self):
        log("reset: rebooting; ignoring everything until the next identify")
        self.advance_physics()
        self.reset_state()
        self.rebooting = True
        self.identified = False
        self.inbuf.clear()

    def cmd_config_reset(self):
        # Only meaningful while shut down: drop the configuration, stay alive.
        if not self.is_shutdown:
            self.shutdown(SHUTDOWN_CLEARED)
            return
        self.advance_physics()
        self.reset_state()

    def cmd_clear_shutdown(self):
        if not self.is_shutdown:
            self.shutdown(SHUTDOWN_CLEARED)
            return
        self.is_shutdown = False
        self.shutdown_reason = 0

    def cmd_config_digital_out(self, oid, pin, value, default_value, max_duration):
        self.oids[oid] = DigitalOut(pin, value, default_value)

    def cmd_set_digital_out_pwm_cycle(self, oid, cycle_ticks):
        self.oids[oid].cycle_ticks = cycle_ticks

    def cmd_queue_digital_out(self, oid, clock, on_ticks):
        out = self.oids[oid]
        if out.cycle_ticks:
            duty = min(1.0, on_ticks / out.cycle_ticks)
        else:
            duty = 1.0 if on_ticks else 0.0
        out.pending.append((self.widen(clock), duty))

    def cmd_update_digital_out(self, oid, value):
        self.advance_physics()
        self.oids[oid].duty = 1.0 if value else 0.0

    def cmd_set_digital_out(self, pin, value):
        pass                          # a plain GPIO; nothing to model

    def cmd_config_analog_in(self, oid, pin):
        self.oids[oid] = AnalogIn(pin)

    def cmd_query_analog_in(self, oid, clock, sample_ticks, sample_count,
                            rest_ticks, min_value, max_value, range_check_count):
        adc = self.oids[oid]
        adc.sample_count = max(1, sample_count)
        adc.rest_ticks = rest_ticks
        adc.next_clock = self.widen(clock) if rest_ticks else None

    def cmd_config_stepper(self, oid, step_pin, dir_pin, invert_step, step_pulse_ticks):
        self.oids[oid] = "stepper"
        self.stepper_dir[oid] = 0
        self.stepper_pos[oid] = 0

    def cmd_queue_step(self, oid, interval, count, add):
        if self.stepper_dir.get(oid):
            self.stepper_pos[oid] += count
        else:
            self.stepper_pos[oid] -= count

    def cmd_set_next_step_dir(self, oid, dir):
        self.stepper_dir[oid] = dir

    def cmd_reset_step_clock(self, oid, clock):
        pass

    def cmd_stepper_get_position(self, oid):
        self.respond("stepper_position", oid=oid, pos=self.stepper_pos.get(oid, 0))

    def cmd_stepper_stop_on_trigger(self, oid, trsync_oid):
        pass

    def cmd_config_endstop(self, oid, pin, pull_up):
        self.oids[oid] = "endstop"

    def cmd_endstop_home(self, oid, clock, sample_ticks, sample_count, rest_ticks,
                         pin_value, trsync_oid, trigger_reason):
        pass                          # endstops never trigger here

    def cmd_endstop_query_state(self, oid):
        self.respond("endstop_state", oid=oid, homing=0,
                     next_clock=self.clock64() & 0xFFFFFFFF, pin_value=0)

    def cmd_config_trsync(self, oid):
        self.oids[oid] = "trsync"

    def cmd_trsync_start(self, oid, report_clock, report_ticks, expire_reason):
        pass

    def cmd_trsync_set_timeout(self, oid, clock):
        pass

    def cmd_trsync_trigger(self, oid, reason):
        self.respond("trsync_state", oid=oid, can_trigger=0, trigger_reason=reason,
                     clock=self.clock64() & 0xFFFFFFFF)

    # -- time-driven behaviour ------------------------------------------------
    def heater_duty(self, pin):
        for obj in self.oids.values():
            if isinstance(obj, DigitalOut) and obj.pin == pin:
                return obj.duty
        return 0.0

    def advance_physics(self, until=None):
        """Integrate the heaters' temperatures up to `until` (default now)."""
        if until is None:
            until = time.monotonic()
        dt = until - self.last_physics
        if dt <= 0:
            return
        for pin, heater in self.heaters.items():
            heater.advance(self.heater_duty(pin), dt)
        self.last_physics = until

    def sensor_temp(self, pin):
        for heater in self.heaters.values():
            if heater.sensor_pin == pin:
                return heater.temp
        return AMBIENT

    def next_deadline(self):
        """Monotonic time of the next scheduled event."""
        deadline = self.next_stats
        for obj in self.oids.values():
            if isinstance(obj, DigitalOut) and obj.pending:
                deadline = min(deadline, self.clock_time(min(c for c, _ in obj.pending)))
            elif isinstance(obj, AnalogIn) and obj.next_clock is not None:
                deadline = min(deadline, self.clock_time(obj.next_clock))
        return deadline

    def run_due(self):
        now = time.monotonic()
        now_clock = self.clock64(now)
        # PWM changes, applied in clock order so the thermal model sees each.
        events = []
        for obj in self.oids.values():
            if isinstance(obj, DigitalOut) and obj.pending:
                due = [ev for ev in obj.pending if ev[0] <= now_clock]
                if due:
                    obj.pending = [ev for ev in obj.pending if ev[0] > now_clock]
                    events += [(clock, obj, duty) for clock, duty in due]
        for clock, obj, duty in sorted(events, key=lambda ev: ev[0]):
            self.advance_physics(max(self.last_physics, self.clock_time(clock)))
            obj.duty = duty
        self.advance_physics(now)
        # Thermistor reports: the sum of sample_count ADC readings.
        for oid, obj in self.oids.items():
            if isinstance(obj, AnalogIn) and obj.next_clock is not None:
                if obj.next_clock <= now_clock:
                    sample = round(thermistor_adc(self.sensor_temp(obj.pin)) * ADC_MAX)
                    sample = max(0, min(ADC_MAX, sample))
                    obj.next_clock += obj.rest_ticks
                    if obj.next_clock <= now_clock:     # we fell behind; catch up
                        obj.next_clock = now_clock + obj.rest_ticks
                    self.respond("analog_in_state", oid=oid,
                                 next_clock=obj.next_clock & 0xFFFFFFFF,
                                 value=sample * obj.sample_count)
        if now >= self.next_stats:
            self.next_stats = now + STATS_INTERVAL
            if self.identified and not self.rebooting:
                # 5000 task runs of 5 ticks each per period.
                self.respond("stats", count=5000, sum=25000, sumsq=500)

    # -- main loop -------------------------------------------------------------
    def run(self):
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        slave_name = os.ttyname(slave)
        tmp = "%s.%d.tmp" % (self.link_path, os.getpid())
        os.symlink(slave_name, tmp)
        os.replace(tmp, self.link_path)
        log("pty %s linked at %s" % (slave_name, self.link_path))

        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)

        def on_signal(signum, frame):
            self.stop = True
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGHUP, on_signal)

        try:
            while not self.stop:
                timeout = max(0.0, min(0.5, self.next_deadline() - time.monotonic()))
                wlist = [master] if self.outbuf else []
                readable, _, _ = select.select([master, wake_r], wlist, [], timeout)
                if master in readable:
                    try:
                        data = os.read(master, 4096)
                    except (BlockingIOError, InterruptedError):
                        data = b""
                    except OSError as exc:
                        # EIO can only happen if nobody holds the slave; we do.
                        log("read error: %s" % exc)
                        time.sleep(0.01)
                        data = b""
                    if data:
                        self.feed(data)
                if wake_r in readable:
                    os.read(wake_r, 64)
                self.run_due()
                self.flush(master)
        finally:
            try:
                if os.readlink(self.link_path) == slave_name:
                    os.unlink(self.link_path)
            except OSError:
                pass
            os.close(master)
            os.close(slave)
            log("exiting; command counts: %s" % sorted(self.counts.items()))


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: %s SYMLINK_PATH\n" % argv[0])
        return 2
    Emulator(os.path.abspath(argv[1])).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
