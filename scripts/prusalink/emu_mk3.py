#!/usr/bin/env python3
"""A line emulator of an Original Prusa MK3S running firmware 3.14, on a pty.

polyprint's own test double for the serial side of a real PrusaLink 0.8.1
daemon (see scripts/prusalink/with-server.sh). It is written from the measured
facts in shared/specs/prusalink.md §4 (what PrusaLink sends and which answers
its regular expressions accept), not from any firmware source. Stdlib only.

    emu_mk3.py PATH        # PATH becomes a symlink to the pty slave

It prints `start` at boot, answers every line with `ok` (after the query
answers below), strips `N<n> ... *<checksum>` and `;comments`, autoreports
temperature, position and fans every 2 s (M155 S<s> C<mask> changes that),
simulates two bang-bang heaters, delays the `ok` of G0/G1 by distance/feed
(capped at 2 s) and of G28 by 0.5 s, answers M109/M190 only once the target is
reached (within 2 °C), answers M601/M602/M603 with `// action:paused|resumed|
cancel`, keeps M73 P/R (Q/S) and reports them back, and keeps a 4 KiB EEPROM
image for D3 reads/writes (job id at 0x0D05, 8 sheet names at 0x0D49).
Nothing is persisted: job ids restart with the emulator.

SIGTERM/SIGINT: exit 0 and remove the symlink. EMU_LOG=1 logs every received
line (and the state changes) to stderr.
"""
import os
import pty
import re
import select
import signal
import struct
import sys
import time
import tty

FIRMWARE = "3.14.1-8237"
PRINTER_TYPE = "302"             # M862.2 Q: MK3S
SERIAL_NUMBER = "CZPX1234X004XK12345"
AMBIENT = 24.0
MOVE_CAP_S = 2.0                 # longest simulated move (and dwell)
HOME_S = 0.5
TEMP_WINDOW = 2.0                # M109/M190 are done within this many °C
# heater: (heating rate °C/s, loss per s as a fraction of T - ambient)
NOZZLE_MODEL = (40.0, 0.08)
BED_MODEL = (6.0, 0.05)
SHEETS = ["Smooth1", "Smooth2", "Textur1", "Textur2",
          "Satin 1", "Satin 2", "Custom1", "Custom2"]
LOG = os.environ.get("EMU_LOG") == "1"

PARAM_RE = re.compile(r"([A-Z])(-?\d*\.?\d*)")
LINE_NUMBER_RE = re.compile(r"^N\d+\s*")
CHECKSUM_RE = re.compile(r"\*\d+\s*$")


def log(msg):
    if LOG:
        sys.stderr.write("[emu_mk3 %.3f] %s\n" % (time.time() % 1000, msg))
        sys.stderr.flush()


class Heater:
    """Bang-bang heater: full power below target, natural loss always."""

    def __init__(self, model):
        self.rate, self.loss = model
        self.temp = AMBIENT
        self.target = 0.0
        self.on = False

    def step(self, dt):
        self.on = self.target > 0 and self.temp < self.target
        gain = self.rate if self.on else 0.0
        self.temp += (gain - self.loss * (self.temp - AMBIENT)) * dt

    def reached(self, both_ways):
        if self.target <= 0:
            return True
        if both_ways:
            return abs(self.temp - self.target) <= TEMP_WINDOW
        return self.temp >= self.target - TEMP_WINDOW


class Printer:
    def __init__(self, fd):
        self.fd = fd
        self.out = bytearray()              # not yet written to the pty
        self.stuck_since = None
        self.nozzle = Heater(NOZZLE_MODEL)
        self.bed = Heater(BED_MODEL)
        self.pos = {"X": 0.0, "Y": 0.0, "Z": 0.15, "E": 0.0}
        self.relative = False
        self.feed = 1500.0                  # mm/min
        self.print_fan = 0                  # 0-255
        self.speed = self.flow = 100        # M220 / M221 percent
        self.progress = {"P": -1, "R": -1, "Q": -1, "S": -1, "C": -1, "D": -1}
        self.report_interval, self.report_mask = 2.0, 7
        self.next_report = time.monotonic() + self.report_interval
        self.blocked = None                 # (kind, arg) of the command owing its "ok"
        self.eeprom = bytearray(4096)
        for i, name in enumerate(SHEETS):
            # 7-char name, z offset (u16, 0 = none), bed temp, PINDA temp
            self.eeprom[0x0D49 + 11 * i:0x0D49 + 11 * (i + 1)] = (
                name.encode("ascii")[:7].ljust(7) + struct.pack("<HBB", 0, 60, 35))

    # -- output ---------------------------------------------------------
    def send(self, *lines):
        self.out += "".join(line + "\n" for line in lines).encode("ascii")
        self.flush()

    def flush(self):
        """Write what the pty takes. Output that nobody has read for 1 s
        (PrusaLink not connected) is dropped, so that a stale `start` or
        report is not delivered when PrusaLink (re)opens the port."""
        now = time.monotonic()
        while self.out:
            try:
                written = os.write(self.fd, self.out)
            except (BlockingIOError, InterruptedError):
                written = 0
            if not written:
                break
            del self.out[:written]
            self.stuck_since = None
        if not self.out:
            self.stuck_since = None
        elif self.stuck_since is None:
            self.stuck_since = now
        elif now - self.stuck_since > 1.0:
            log("nobody reads the pty: dropped %d bytes" % len(self.out))
            self.out.clear()
            self.stuck_since = None

    def temperature_line(self):
        n, b = self.nozzle, self.bed
        return ("T:%.1f /%.1f B:%.1f /%.1f T0:%.1f /%.1f @:%d B@:%d P:%.1f A:%.1f"
                % (n.temp, n.target, b.temp, b.target, n.temp, n.target,
                   127 if n.on else 0, 127 if b.on else 0,
                   min(b.temp, 35.0) + 6.0, AMBIENT + 7.0))

    def position_line(self):
        p = self.pos
        return ("X:%.2f Y:%.2f Z:%.2f E:%.2f Count X: %.2f Y:%.2f Z:%.2f E:%.2f"
                % (p["X"], p["Y"], p["Z"], p["E"], p["X"], p["Y"], p["Z"], p["E"]))

    def fan_line(self):
        hotend_on = self.nozzle.temp > 50.0   # the heatsink fan follows the nozzle
        return ("E0:%d RPM PRN1:%d RPM E0@:%d PRN1@:%d"
                % (6800 if hotend_on else 0, self.print_fan * 28,
                   255 if hotend_on else 0, self.print_fan))

    def progress_lines(self):
        g = self.progress
        return ["%s MODE: Percent done: %d; print time remaining in mins: %d; "
                "Change in mins: %d" % (mode, g[p], g[r], g[c])
                for mode, p, r, c in (("NORMAL", "P", "R", "C"), ("SILENT", "Q", "S", "D"))]

    # -- time -----------------------------------------------------------
    def tick(self, dt, now):
        self.nozzle.step(dt)
        self.bed.step(dt)
        if self.report_interval > 0 and now >= self.next_report:
            self.next_report = now + self.report_interval
            if self.report_mask & 1:
                self.send(self.temperature_line())
            if self.report_mask & 2:
                self.send(self.position_line())
            if self.report_mask & 4:
                self.send(self.fan_line())
        if self.blocked is not None:
            kind, arg = self.blocked
            done = now >= arg if kind == "until" else arg[0].reached(arg[1])
            if done:
                self.blocked = None
                self.send("ok")

    def timeout(self, now):
        """Seconds until tick() has something to do (heaters: 0.1 s steps)."""
        waits = [0.05 if self.out else 0.1]
        if self.report_interval > 0:
            waits.append(self.next_report - now)
        if self.blocked is not None and self.blocked[0] == "until":
            waits.append(self.blocked[1] - now)
        return max(0.0, min(waits))

    # -- commands -------------------------------------------------------
    def handle(self, raw):
        line = raw.split(";", 1)[0].strip()
        line = CHECKSUM_RE.sub("", LINE_NUMBER_RE.sub("", line)).strip()
        log("<- %r" % raw)
        if not line:
            return self.send("ok") if raw.strip() else None
        word, _, rest = line.partition(" ")
        word = word.upper()
        params = {k: float(v) if v not in ("", "-", ".") else None
                  for k, v in PARAM_RE.findall(rest.upper())}
        now = time.monotonic()
        answer = []
        if word == "PRUSA":
            arg = rest.strip()
            if arg == "Fir":
                answer = [FIRMWARE]
            elif arg == "SN":
                answer = [SERIAL_NUMBER]
        elif word == "M862.2" and "Q" in params:
            answer = [PRINTER_TYPE]
        elif word == "M862.1" and "Q" in params:
            answer = ["0.40"]
        elif word == "M862.3" and "Q" in params:
            answer = ['"MK3S"']
        elif word in ("M220", "M221"):
            attr = "speed" if word == "M220" else "flow"
            if params.get("S") is not None:
                setattr(self, attr, int(params["S"]))
            else:
                answer = ["%d%%" % getattr(self, attr)]
        elif word == "M73":
            for key in self.progress:
                if params.get(key) is not None:
                    self.progress[key] = int(params[key])
            answer = self.progress_lines()
        elif word == "M27":
            answer = ["Not SD printing"]
        elif word == "D3":
            answer = self.eeprom_access(rest)
        elif word == "M420":
            answer = ["Mesh bed leveling not active."]
        elif word == "M20":
            answer = ["Begin file list", "End file list"]
        elif word == "M21":
            answer = ["echo:SD card ok"]
        elif word == "M105":
            return self.send("ok " + self.temperature_line())
        elif word == "M114":
            answer = [self.position_line()]
        elif word == "M115":
            answer = ["FIRMWARE_NAME:Prusa-Firmware %s based on Marlin PROTOCOL_VERSION:1.0 "
                      "MACHINE_TYPE:Prusa i3 MK3S EXTRUDER_COUNT:1" % FIRMWARE.split("-")[0]]
            answer += ["Cap:%s:1" % cap for cap in ("AUTOREPORT_TEMP", "AUTOREPORT_FANS",
                                                    "AUTOREPORT_POSITION", "EXTENDED_M20")]
        elif word == "M155":
            if params.get("S") is not None:
                self.report_interval = params["S"]
                self.next_report = now + self.report_interval
            if params.get("C") is not None:
                self.report_mask = int(params["C"])
        elif word in ("M104", "M109", "M140", "M190"):
            heater = self.nozzle if word in ("M104", "M109") else self.bed
            value = params.get("S") if params.get("S") is not None else params.get("R")
            if value is not None:
                heater.target = max(0.0, value)
            if word in ("M109", "M190"):
                self.blocked = ("heat", (heater, params.get("R") is not None))
                log("waiting for %s to reach %.1f" % (word, heater.target))
                return self.tick(0.0, now)
        elif word in ("M106", "M107"):
            s = params.get("S")
            self.print_fan = 0 if word == "M107" else int(min(255, 255 if s is None else s))
        elif word in ("G0", "G1"):
            return self.move(params, now)
        elif word == "G28":
            for axis in [a for a in "XYZ" if a in params] or "XYZ":   # G28 alone: all
                self.pos[axis] = 0.15 if axis == "Z" else 0.0
            self.blocked = ("until", now + HOME_S)
            return
        elif word == "G4":
            secs = (params.get("S") or 0.0) + (params.get("P") or 0.0) / 1000.0
            if secs > 0:
                self.blocked = ("until", now + min(secs, MOVE_CAP_S))
                return
        elif word in ("G90", "G91"):
            self.relative = word == "G91"
        elif word == "G92":
            for axis in "XYZE":
                if params.get(axis) is not None:
                    self.pos[axis] = params[axis]
        elif word == "M601":
            answer = ["// action:paused"]
        elif word == "M602":
            answer = ["// action:resumed"]
        elif word == "M603":
            self.nozzle.target = self.bed.target = 0.0
            self.print_fan = 0
            answer = ["// action:cancel"]
        self.send(*answer, "ok")

    def move(self, params, now):
        if params.get("F"):
            self.feed = params["F"]
        dist2 = 0.0
        for axis in "XYZE":
            if params.get(axis) is None:
                continue
            new = self.pos[axis] + params[axis] if self.relative else params[axis]
            if axis != "E":
                dist2 += (new - self.pos[axis]) ** 2
            self.pos[axis] = new
        secs = min(MOVE_CAP_S, dist2 ** 0.5 / (self.feed / 60.0)) if self.feed > 0 else 0
        self.blocked = ("until", now + secs)

    def eeprom_access(self, rest):
        """D3 Ax<addr> C<count> (read: hex dump, 16 bytes a line) or
        D3 Ax<addr> X<hex bytes> (write, bytes in the given order)."""
        m_addr = re.search(r"A(?:0?[xX])?([0-9A-Fa-f]+)", rest)
        if not m_addr:
            return []
        addr = int(m_addr.group(1), 16) % len(self.eeprom)
        m_data = re.search(r"X([0-9A-Fa-f]+)", rest)
        if m_data:
            data = bytes.fromhex(m_data.group(1)[:len(m_data.group(1)) // 2 * 2])
            self.eeprom[addr:addr + len(data)] = data[:len(self.eeprom) - addr]
            log("eeprom 0x%04x <- %s" % (addr, data.hex()))
            return []
        m_count = re.search(r"C(\d+)", rest)
        count = min(int(m_count.group(1)) if m_count else 1, len(self.eeprom) - addr)
        return ["%04x  %s" % (addr + off, " ".join(
            "%02x" % b for b in self.eeprom[addr + off:addr + min(off + 16, count)]))
            for off in range(0, count, 16)]


class Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler to leave the main loop."""


def on_signal(signum, frame):
    raise Stop()


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: emu_mk3.py PTY_SYMLINK_PATH\n")
        return 2
    link = os.path.abspath(argv[1])
    master, slave = pty.openpty()
    tty.setraw(slave)                    # no echo, no line editing, no CR/LF mapping
    os.set_blocking(master, False)
    slave_name = os.ttyname(slave)       # keep `slave` open: the pty survives reopens
    if os.path.islink(link):
        os.unlink(link)
    os.symlink(slave_name, link)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    printer = Printer(master)
    sys.stderr.write("emu_mk3: MK3S fw %s on %s -> %s (pid %d)\n"
                     % (FIRMWARE, link, slave_name, os.getpid()))
    sys.stderr.flush()
    printer.send("start")
    buf = b""
    last = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            readable, _, _ = select.select([master], [master] if printer.out else [], [],
                                           printer.timeout(now))
            if readable:
                try:
                    buf += os.read(master, 4096).replace(b"\r", b"\n")
                except (BlockingIOError, InterruptedError):
                    pass
            printer.flush()
            now = time.monotonic()
            printer.tick(now - last, now)
            last = now
            # One command at a time: the next waits until this one got its "ok".
            while printer.blocked is None and b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                printer.handle(raw.decode("ascii", "replace"))
    except Stop:
        pass
    finally:
        try:
            if os.path.islink(link) and os.readlink(link) == slave_name:
                os.unlink(link)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
