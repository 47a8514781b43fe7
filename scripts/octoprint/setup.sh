#!/usr/bin/env bash
# Install a real OctoPrint 1.11.x into a cached Python venv (idempotent).
#
#   scripts/octoprint/setup.sh
#
# Venv location: ${POLYPRINT_OCTOPRINT_VENV:-<repo>/target/octoprint-venv}
# Python used to create it: ${POLYPRINT_PYTHON:-python3}
#
# If the venv already holds a working OctoPrint 1.11.x this does nothing.
# Otherwise it creates the venv and pip-installs 'octoprint>=1.11,<1.12' from
# PyPI. netifaces (an OctoPrint dependency) is built from sdist, so gcc and the
# Python headers are needed; when they are missing and we are root with
# apt-get, the Debian packages are installed.
#
# Exit status: 0 = ready; non-zero with "OCTOPRINT UNAVAILABLE: <reason>" on
# stderr when python3, PyPI or the build toolchain cannot be had.
# See shared/specs/octoprint.md §1 and §11.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VENV="${POLYPRINT_OCTOPRINT_VENV:-$REPO_ROOT/target/octoprint-venv}"
PYTHON="${POLYPRINT_PYTHON:-python3}"
OCTOPRINT_SPEC='octoprint>=1.11,<1.12'

log() { printf '[octoprint-setup] %s\n' "$*" >&2; }
die() {
    printf '\n[octoprint-setup] OCTOPRINT UNAVAILABLE: %s\n\n' "$*" >&2
    exit 1
}

T_START=$EPOCHREALTIME
T_STEP=$T_START
# step_done LABEL: log the time since the previous step.
step_done() {
    local now=$EPOCHREALTIME
    log "$(printf '%-34s %6.2f s' "$1" "$(awk -v a="$T_STEP" -v b="$now" 'BEGIN{print b-a}')")"
    T_STEP=$now
}
total() {
    awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'
}

# venv_ok: does the venv hold a runnable OctoPrint 1.11.x? Sets VENV_VERSION.
VENV_VERSION=
venv_ok() {
    VENV_VERSION=
    [[ -x "$VENV/bin/octoprint" ]] || return 1
    local out
    out="$("$VENV/bin/octoprint" --version 2>/dev/null)" || return 1
    # Prints e.g. "octoprint, version 1.11.8"
    VENV_VERSION="$(grep -oE '[0-9]+\.[0-9]+\.[0-9]+[^[:space:]]*' <<<"$out" | head -n1 || true)"
    [[ "$VENV_VERSION" == 1.11.* ]]
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

# with-server.sh looks for this marker (written only after a verified install)
# to decide whether setup.sh must run.
MARKER="$VENV/.polyprint-octoprint-ok"

if venv_ok; then
    touch "$MARKER"
    log "reusing existing venv $VENV (OctoPrint $VENV_VERSION); nothing to do ($(total) s)"
    exit 0
fi
step_done "check existing venv"

# ---- python3 -------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found on PATH (set POLYPRINT_PYTHON)"
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
    || die "'$PYTHON' does not run"
"$PYTHON" -c 'import sys; sys.exit(0 if (3, 7) <= sys.version_info[:2] < (3, 14) else 1)' \
    || die "OctoPrint 1.11 needs Python 3.7..3.13, '$PYTHON' is $PYVER"
PYPREFIX="$("$PYTHON" -c 'import sys; print(sys.base_prefix)')"
log "python: $(command -v "$PYTHON") ($PYVER, prefix $PYPREFIX)"

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

# ---- gcc + Python headers (netifaces is built from sdist) ----------------
headers_ok() {
    local inc
    inc="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" || return 1
    [[ -f "$inc/Python.h" ]] || return 1
    command -v gcc >/dev/null 2>&1 || return 1
    printf '#include <Python.h>\nint main(void){return 0;}\n' \
        | gcc -fsyntax-only -x c -I"$inc" - >/dev/null 2>&1
}
TOOLCHAIN_OK=1
if ! headers_ok; then
    pkgs=()
    command -v gcc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)
    if is_debian_python; then pkgs+=("python$PYVER-dev" python3-dev); fi
    if ((${#pkgs[@]})) && apt_install "${pkgs[@]}" && headers_ok; then
        log "gcc and Python headers installed"
    else
        TOOLCHAIN_OK=0
        log "WARNING: gcc and/or Python.h for $PYTHON ($PYPREFIX) are missing; netifaces will fail to build"
        if ! is_debian_python; then
            log "WARNING: $PYTHON is not Debian's python; its headers must come from its own build (e.g. pyenv)"
        fi
    fi
fi
step_done "check gcc + Python headers"

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
            "$PYTHON" -m venv "$VENV" >&2 || die "python3 -m venv failed even after installing python$PYVER-venv"
        else
            die "'$PYTHON -m venv' failed (Debian: apt-get install python3-venv)"
        fi
    fi
    step_done "create venv"
fi

# ---- PyPI reachable? -----------------------------------------------------
# One ordinary index lookup of the package we are about to install.
if ! probe="$("$VENV/bin/python" -m pip index versions octoprint --timeout 20 --retries 1 2>&1)"; then
    why="$(grep -oE '\[Errno [^]]*\][^'"'"'"]*|Read timed out|SSLError[^'"'"'"]*' <<<"$probe" | head -n1 || true)"
    die "PyPI cannot be reached by pip: ${why:-$(tail -n1 <<<"$probe")}"
fi
step_done "probe PyPI (pip index versions)"

# ---- install -------------------------------------------------------------
log "pip install '$OCTOPRINT_SPEC' into $VENV (about 45 s cold)"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$OCTOPRINT_SPEC" >&2; then
    if ((TOOLCHAIN_OK == 0)); then
        die "pip install of $OCTOPRINT_SPEC failed; gcc/Python headers are missing (netifaces builds from sdist)"
    fi
    die "pip install of $OCTOPRINT_SPEC failed (see pip output above)"
fi
step_done "pip install octoprint"

venv_ok || die "installed, but '$VENV/bin/octoprint --version' does not report 1.11.x"
touch "$MARKER"
step_done "verify octoprint --version"
log "OctoPrint $VENV_VERSION ready in $VENV (total $(total) s, $(du -sh "$VENV" 2>/dev/null | cut -f1))"
