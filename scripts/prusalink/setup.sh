#!/usr/bin/env bash
# Install a real PrusaLink 0.8.1 (the Python daemon for the MK3/MK3S/MK2.5)
# into a cached Python venv (idempotent).
#
#   scripts/prusalink/setup.sh
#
# Venv location: ${POLYPRINT_PRUSALINK_VENV:-<repo>/target/prusalink-venv}
# Python used to create it: ${POLYPRINT_PYTHON:-python3} (3.11 is the tested
# one; on 3.12+ "setuptools<81" is added, because PrusaLink imports
# pkg_resources).
#
# If the venv already holds a verified PrusaLink 0.8.1 this does nothing.
# Otherwise it creates the venv and pip-installs 'prusalink==0.8.1' from PyPI
# (pyprusalink is NOT installed: polyprint does not need it). python-prctl is
# built from sdist (gcc, Python.h and libcap-dev), python-magic and
# PyTurboJPEG load libmagic1 and libturbojpeg0 at run time; when any of these
# is missing and we are root with apt-get, the Debian packages are installed.
#
# Exit status: 0 = ready; non-zero with "PRUSALINK UNAVAILABLE: <reason>" on
# stderr when Python, PyPI or the build toolchain cannot be had.
# See shared/specs/prusalink.md §1 and §10.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VENV="${POLYPRINT_PRUSALINK_VENV:-$REPO_ROOT/target/prusalink-venv}"
PYTHON="${POLYPRINT_PYTHON:-python3}"
PL_PKG=prusalink
PL_VERSION=0.8.1
# with-server.sh looks for this marker (written only after a verified install)
# to decide whether setup.sh must run.
MARKER="$VENV/.polyprint-prusalink-ok"

log() { printf '[prusalink-setup] %s\n' "$*" >&2; }
die() {
    printf '\n[prusalink-setup] PRUSALINK UNAVAILABLE: %s\n\n' "$*" >&2
    exit 1
}

T_START=$EPOCHREALTIME
T_STEP=$T_START
# step_done LABEL: log the time since the previous step.
step_done() {
    local now=$EPOCHREALTIME
    log "$(printf '%-36s %6.2f s' "$1" "$(awk -v a="$T_STEP" -v b="$now" 'BEGIN{print b-a}')")"
    T_STEP=$now
}
total() { awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }

# venv_ok: the venv has prusalink at the pinned version, and the modules the
# daemon needs import (prusa.link with its web app, which needs pkg_resources;
# prctl, the compiled one; magic, which loads libmagic1), PyTurboJPEG finds
# libturbojpeg0, and the names launcher.py patches exist.
venv_ok() {
    [[ -x "$VENV/bin/python" && -x "$VENV/bin/prusalink" ]] || return 1
    "$VENV/bin/python" - "$PL_PKG" "$PL_VERSION" >/dev/null 2>&1 <<'PY' || return 1
import sys, importlib.metadata as md
if md.version(sys.argv[1]) != sys.argv[2]:
    sys.exit("wrong version")
import prusa.link                                   # noqa: F401
import prusa.link.__main__                          # noqa: F401
import prusa.link.web.main                          # noqa: F401  (pkg_resources)
import prusa.link.printer_adapter.prusa_link as pl
import prusa.link.const as const
assert hasattr(pl, "ServiceDiscovery") and "/tmp" in const.BLACKLISTED_PATHS
import prctl, magic                                 # noqa: F401,E401
from turbojpeg import TurboJPEG
TurboJPEG()                                         # loads libturbojpeg
PY
}

mkdir -p "$(dirname "$VENV")"

# Serialise concurrent setups of the same venv (e.g. parallel with-server.sh).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV.lock"
    if ! flock -n 9; then
        log "another setup of $VENV is running; waiting for it"
        flock 9
    fi
fi

if venv_ok; then
    touch "$MARKER"
    log "reusing existing venv $VENV (PrusaLink $PL_VERSION); nothing to do ($(total) s)"
    exit 0
fi
step_done "check existing venv"

# ---- python ----------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found on PATH (set POLYPRINT_PYTHON)"
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
    || die "'$PYTHON' does not run"
"$PYTHON" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] < (3, 14) else 1)' \
    || die "PrusaLink $PL_VERSION needs Python 3.9..3.13 (3.11 tested), '$PYTHON' is $PYVER"
PYPREFIX="$("$PYTHON" -c 'import sys; print(sys.base_prefix)')"
log "python: $(command -v "$PYTHON") ($PYVER, prefix $PYPREFIX)"
[[ "$PYVER" == 3.11 ]] || log "WARNING: Python $PYVER is not the tested 3.11"

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
# Debian's own interpreter gets its headers/venv from Debian packages; a
# pyenv/other build carries its headers in its own prefix.
is_debian_python() { [[ "$PYPREFIX" == /usr ]]; }
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# ---- Debian libraries + gcc + Python headers -------------------------------
headers_ok() {
    local inc
    inc="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" || return 1
    [[ -f "$inc/Python.h" ]] || return 1
    command -v gcc >/dev/null 2>&1 || return 1
    printf '#include <Python.h>\n#include <sys/capability.h>\nint main(void){return 0;}\n' \
        | gcc -fsyntax-only -x c -I"$inc" - >/dev/null 2>&1
}
pkgs=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in libcap-dev libmagic1 libturbojpeg0; do
        deb_installed "$p" || pkgs+=("$p")
    done
fi
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)
if ! headers_ok && is_debian_python; then pkgs+=("python$PYVER-dev"); fi
TOOLCHAIN_OK=1
if ((${#pkgs[@]})); then
    if ! apt_install "${pkgs[@]}"; then
        log "WARNING: could not install Debian packages: ${pkgs[*]} (not root, no apt-get, or apt failed)"
    fi
fi
if ! headers_ok; then
    TOOLCHAIN_OK=0
    log "WARNING: gcc, Python.h for $PYTHON ($PYPREFIX) or sys/capability.h (libcap-dev) is missing; python-prctl will fail to build"
fi
step_done "check Debian packages + toolchain"

# ---- venv ----------------------------------------------------------------
rm -f "$MARKER"
if [[ -e "$VENV" && ! -x "$VENV/bin/python" ]]; then
    log "removing broken venv $VENV"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    if ! "$PYTHON" -m venv "$VENV" >&2; then
        rm -rf "$VENV"
        if is_debian_python && apt_install "python$PYVER-venv"; then
            "$PYTHON" -m venv "$VENV" >&2 || die "'$PYTHON -m venv' failed even after installing python$PYVER-venv"
        else
            die "'$PYTHON -m venv' failed (Debian: apt-get install python3-venv)"
        fi
    fi
    step_done "create venv"
fi

# ---- PyPI reachable? -----------------------------------------------------
# One ordinary index lookup of the package we are about to install.
if ! probe="$("$VENV/bin/python" -m pip index versions "$PL_PKG" --timeout 20 --retries 1 2>&1)"; then
    why="$(grep -oE '\[Errno [^]]*\][^'"'"'"]*|Read timed out|SSLError[^'"'"'"]*' <<<"$probe" | head -n1 || true)"
    die "PyPI cannot be reached by pip: ${why:-$(tail -n1 <<<"$probe")}"
fi
step_done "probe PyPI (pip index versions)"

# ---- install -------------------------------------------------------------
specs=("$PL_PKG==$PL_VERSION")
# Python 3.12 has no bundled setuptools in venvs; setuptools 81+ drops pkg_resources.
if [[ "$PYVER" != 3.9 && "$PYVER" != 3.10 && "$PYVER" != 3.11 ]]; then specs+=("setuptools<81"); fi
log "pip install ${specs[*]} into $VENV (about 20-45 s cold)"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${specs[@]}" >&2; then
    if ((TOOLCHAIN_OK == 0)); then
        die "pip install of ${specs[*]} failed; gcc/Python headers/libcap-dev are missing (python-prctl builds from sdist)"
    fi
    die "pip install of ${specs[*]} failed (see pip output above)"
fi
step_done "pip install prusalink"

if ! venv_ok; then
    # Show why (the check above is silent).
    "$VENV/bin/python" -c 'import prusa.link.__main__, prusa.link.web.main, prctl, magic; from turbojpeg import TurboJPEG; TurboJPEG()' >&2 || true
    die "installed, but the venv does not import prusa.link $PL_VERSION with its native libraries"
fi
touch "$MARKER"
step_done "verify import prusa.link"
log "PrusaLink $PL_VERSION ready in $VENV (total $(total) s, $(du -sh "$VENV" 2>/dev/null | cut -f1))"
