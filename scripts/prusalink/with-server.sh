#!/usr/bin/env bash
# shellcheck disable=SC2317  # stop_proc/cleanup are reached via trap
# Run a command against a fresh, real PrusaLink 0.8.1 daemon driving our own
# emulated Original Prusa MK3S (firmware 3.14) on a pseudo-terminal.
#
#   scripts/prusalink/with-server.sh CMD [ARGS...]
#
# Makes a fresh run directory (outside /tmp: PrusaLink ignores storage under
# /tmp) under ${POLYPRINT_PRUSALINK_RUNS:-<repo>/target/prusalink-runs}, writes
# prusalink.ini and prusa_printer_settings.ini there (HTTP on 127.0.0.1 only,
# on a free port; user `maker` with a random password, stored as its HA1
# digest md5("maker:Administrator:<password>"); a random API key; Connect not
# configured; camera auto-detection off), creates the storage directory
# "PrusaLink gcodes", starts emu_mk3.py (the printer, on the pty symlink
# <run>/ttyMK3) and then launcher.py (PrusaLink with zeroconf stubbed out, so
# nothing is multicast), polls GET /api/v1/status (X-Api-Key, every 0.2 s;
# connection refused and 503 mean "not ready") until printer.state == "IDLE"
# (about 8.5-9 s: PrusaLink waits a fixed 8 s for the printer to "boot" after
# opening the port), the first telemetry report (temp_nozzle, axis_x) has
# arrived (~1-2 s later: the printer autoreports every 2 s) and GET
# /api/v1/storage shows the local storage available, then runs CMD with
#
#   PRUSALINK_URL=http://127.0.0.1:<port>
#   PRUSALINK_API_KEY=<key>          (header X-Api-Key: <key>)
#   PRUSALINK_USER=maker
#   PRUSALINK_PASSWORD=<password>    (HTTP Digest, realm "Administrator",
#                                     only algorithm=MD5-sess is accepted)
#   PRUSALINK_RUN_DIR=<run dir>      (prusalink.log, emu_mk3.log, the ini
#                                     files, "PrusaLink gcodes/")
#   POLYPRINT_LIVE_BACKEND=prusalink, POLYPRINT_LIVE_URL (= PRUSALINK_URL),
#   POLYPRINT_LIVE_KEY (= the API key) and
#   POLYPRINT_LIVE_OPTIONS=""  (the live harness uses the API key; Digest is
#   exercised by the adapter's own live test with PRUSALINK_USER/PASSWORD)
#   (the generic live harness of polyprint-conformance)
#
# in its environment. Example:
#
#   scripts/prusalink/with-server.sh bash -c \
#     'curl -s -H "X-Api-Key: $PRUSALINK_API_KEY" "$PRUSALINK_URL/api/v1/status"'
#
# The daemon and the emulator are always stopped afterwards (SIGTERM to their
# process groups, SIGKILL after 10 s) and the run directory is removed unless
# POLYPRINT_KEEP_PRUSALINK=1. Exits with CMD's exit status (1, with
# "PRUSALINK UNAVAILABLE: <reason>" and the last 40 log lines on stderr, if
# the server could not be started; the same log lines follow a failing CMD).
#
# scripts/prusalink/smoke.sh is an end-to-end check of all this (about 45 s).
#
# Things a test must expect from the real server (shared/specs/prusalink.md):
# a PUT file is invisible for up to ~0.25 s (poll GET of it before POSTing a
# print); FINISHED/STOPPED last 11 s before IDLE, and a print start in that
# window gets 409; /api/v1/job is 204 when no job runs; the emulator spends
# at most 2 s per move and M109/M190 heat for real (~7 s).
#
# The venv is ${POLYPRINT_PRUSALINK_VENV:-<repo>/target/prusalink-venv};
# setup.sh is run first if its marker is missing.
# POLYPRINT_PRUSALINK_START_TIMEOUT (default 60) bounds the wait for IDLE.
# EMU_LOG=1 makes the emulator log every received line to emu_mk3.log.
# See shared/specs/prusalink.md §2, §3, §4 and §10.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VENV="${POLYPRINT_PRUSALINK_VENV:-$REPO_ROOT/target/prusalink-venv}"
RUNS="${POLYPRINT_PRUSALINK_RUNS:-$REPO_ROOT/target/prusalink-runs}"
START_TIMEOUT="${POLYPRINT_PRUSALINK_START_TIMEOUT:-60}"
STOP_TIMEOUT=10
HOST=127.0.0.1
USER_NAME=maker
REALM=Administrator
STORAGE_NAME="PrusaLink gcodes"

log() { printf '[prusalink] %s\n' "$*" >&2; }

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { log "PRUSALINK UNAVAILABLE: curl not found"; exit 1; }

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }
past() { awk -v d="$1" -v n="$EPOCHREALTIME" 'BEGIN{exit !(n>d)}'; }
deadline_in() { awk -v a="$EPOCHREALTIME" -v t="$1" 'BEGIN{printf "%.3f", a+t}'; }

# ---- venv ----------------------------------------------------------------
# setup.sh writes the marker only after a verified install, so a venv that a
# concurrent setup.sh is still filling counts as missing (setup.sh then waits
# for the other one on its lock).
if [[ ! -x "$VENV/bin/python" || ! -f "$VENV/.polyprint-prusalink-ok" ]]; then
    log "no complete PrusaLink venv at $VENV; running setup.sh"
    "$SCRIPT_DIR/setup.sh" || exit 1
fi
PY="$VENV/bin/python"

# ---- state + cleanup -----------------------------------------------------
RUN=""
EMU_PID=""
PL_PID=""
CMD_PID=""
SETSID=()
command -v setsid >/dev/null 2>&1 && SETSID=(setsid)

# tail_logs: the last 40 lines of both logs, without the traceback PrusaLink
# logs for every 503 answered to our own readiness polls.
tail_logs() {
    local f
    [[ -n "$RUN" ]] || return 0
    for f in prusalink.log emu_mk3.log; do
        if [[ -s "$RUN/$f" ]]; then
            log "---- last 40 lines of $RUN/$f (503 tracebacks left out) ----"
            awk '/service_unavailable\(\)/ { skip = 1; next }
                 skip && /^HTTPException\(503/ { skip = 0; next }
                 !skip' "$RUN/$f" | tail -n 40 >&2
        fi
    done
    log "----"
}

# stop_proc NAME PID: SIGTERM to the process (and its process group when it
# leads one: started with setsid), SIGKILL after STOP_TIMEOUT, children too.
stop_proc() {
    local name=$1 pid=$2 t=$EPOCHREALTIME kids target i k
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kids="$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
        target=$pid
        if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then target=-$pid; fi
        kill -TERM -- "$target" 2>/dev/null
        for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name pid $pid still running after ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL -- "$target" 2>/dev/null
        fi
        for k in $kids; do kill -KILL "$k" 2>/dev/null; done
    fi
    wait "$pid" 2>/dev/null
    log "$name stopped in $(since "$t") s"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # Interrupted while CMD runs: stop it first (it is our child, not its children).
    stop_proc command "$CMD_PID"
    local pl=$PL_PID emu=$EMU_PID
    PL_PID="" EMU_PID=""
    stop_proc prusalink "$pl"
    stop_proc emu_mk3 "$emu"
    if [[ -n "$RUN" && -d "$RUN" ]]; then
        if [[ "${POLYPRINT_KEEP_PRUSALINK:-0}" == 1 ]]; then
            log "kept run directory $RUN (logs: prusalink.log, emu_mk3.log)"
        else
            rm -rf "$RUN"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    log "PRUSALINK UNAVAILABLE: $*"
    tail_logs
    exit 1
}

# ---- run directory + configuration ----------------------------------------
mkdir -p "$RUNS" || fail "cannot create $RUNS"
RUN="$(mktemp -d "$RUNS/run.XXXXXX")" || fail "mktemp -d in $RUNS failed"
[[ "$RUN" == /tmp/* ]] && log "note: $RUN is under /tmp; launcher.py lifts PrusaLink's /tmp storage blacklist"
mkdir -p "$RUN/$STORAGE_NAME" || fail "cannot create the storage directory"

read -r PASSWORD API_KEY DIGEST < <("$PY" - "$USER_NAME" "$REALM" <<'PY'
import hashlib, secrets, sys
password = "pl-" + secrets.token_hex(8)
key = secrets.token_hex(16)
ha1 = hashlib.md5(("%s:%s:%s" % (sys.argv[1], sys.argv[2], password)).encode()).hexdigest()
print(password, key, ha1)
PY
)
[[ -n "${DIGEST:-}" ]] || fail "venv python $PY does not run"

# No inline comments in these files: PrusaLink would take them as part of the value.
write_config() {
    local port=$1
    cat >"$RUN/prusalink.ini" <<INI
[daemon]
data_dir = $RUN
pid_file = $RUN/prusalink.pid
power_panic_file = $RUN/power_panic
threshold_file = $RUN/threshold.data
user = $(id -un)
group = $(id -gn)
[http]
address = $HOST
port = $port
[printer]
port = $RUN/ttyMK3
settings = $RUN/prusa_printer_settings.ini
directory = $RUN/$STORAGE_NAME
[cameras]
auto_detect = False
INI
    cat >"$RUN/prusa_printer_settings.ini" <<INI
[printer]
type = MK3S
name = polyprint-ci
location = loopback
farm_mode = False
network_error_chime = False
[network]
hostname = prusalink-ci
[service::connect]
hostname = 127.0.0.1
tls = False
port = 9
token =
[service::local]
enable = 1
username = $USER_NAME
digest = $DIGEST
api_key = $API_KEY
[camera_order]
INI
}

# ---- HTTP helper -------------------------------------------------------------
# status_poll: prints "<http code> <printer.state or ->" ("000 -" when refused).
status_poll() {
    local code state
    code="$(curl -s -o "$RUN/.body" -w '%{http_code}' --max-time 2 \
        -H "X-Api-Key: $API_KEY" "http://$HOST:$PORT/api/v1/status" 2>/dev/null)" || code=000
    state=-
    if [[ "$code" == 200 ]]; then
        state="$(grep -oE '"state": *"[A-Z_]+"' "$RUN/.body" | head -n1 | sed -E 's/.*"([A-Z_]+)"$/\1/')"
    fi
    printf '%s %s\n' "${code:-000}" "${state:--}"
}

# local_storage_ready: GET /api/v1/storage lists the LOCAL storage as
# available (a file, not a pipe, so grep needs no pipefail care).
local_storage_ready() {
    curl -s -o "$RUN/.storage" --max-time 2 -H "X-Api-Key: $API_KEY" \
        "http://$HOST:$PORT/api/v1/storage" 2>/dev/null || return 1
    grep -qE '"type": *"LOCAL", *"path": *"/local", *"available": *true' "$RUN/.storage"
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---- start the printer -------------------------------------------------------
t_emu=$EPOCHREALTIME
EMU_LOG="${EMU_LOG:-0}" "${SETSID[@]}" "$PY" "$SCRIPT_DIR/emu_mk3.py" "$RUN/ttyMK3" \
    </dev/null >>"$RUN/emu_mk3.log" 2>&1 &
EMU_PID=$!
deadline=$(deadline_in 10)
until [[ -L "$RUN/ttyMK3" ]]; do
    kill -0 "$EMU_PID" 2>/dev/null || { wait "$EMU_PID" 2>/dev/null; EMU_PID=""; fail "emu_mk3.py exited at start"; }
    past "$deadline" && fail "emu_mk3.py did not create $RUN/ttyMK3 within 10 s"
    sleep 0.02
done
log "emulated MK3S up in $(since "$t_emu") s (pid $EMU_PID, $RUN/ttyMK3 -> $(readlink "$RUN/ttyMK3"))"

# ---- start PrusaLink -------------------------------------------------------------
ready=0
for attempt in 1 2 3; do
    PORT="$(free_port)" || fail "could not pick a free port"
    write_config "$PORT"
    t_launch=$EPOCHREALTIME
    (cd "$RUN" && exec "${SETSID[@]}" "$PY" "$SCRIPT_DIR/launcher.py" -f -c "$RUN/prusalink.ini" -i \
        </dev/null >>"$RUN/prusalink.log" 2>&1) &
    PL_PID=$!
    deadline=$(deadline_in "$START_TIMEOUT")
    first_http="" first_200="" idle_at="" last="000 -"
    while :; do
        last="$(status_poll)"
        if [[ "$last" != "000 -" && -z "$first_http" ]]; then first_http="$(since "$t_launch")"; fi
        if [[ "$last" == 200* && -z "$first_200" ]]; then first_200="$(since "$t_launch")"; fi
        if [[ "$last" == "200 IDLE" && -z "$idle_at" ]]; then idle_at="$(since "$t_launch")"; fi
        # IDLE comes ~1-2 s before the first temperature/position autoreport
        # (every 2 s) has reached /api/v1/status; wait for that too.
        # And for the local storage: uploads answer 500 until PrusaLink's folder
        # thread has attached it (seen once in CI, under load).
        if [[ -n "$idle_at" && "$last" == "200 IDLE" ]] \
            && grep -q '"temp_nozzle"' "$RUN/.body" && grep -q '"axis_x"' "$RUN/.body" \
            && local_storage_ready; then
            ready=1
            break
        fi
        if ! kill -0 "$PL_PID" 2>/dev/null; then
            wait "$PL_PID" 2>/dev/null; src=$?
            PL_PID=""
            log "PrusaLink exited (rc=$src) before reaching IDLE on port $PORT (attempt $attempt)"
            break
        fi
        kill -0 "$EMU_PID" 2>/dev/null || fail "emu_mk3.py died while PrusaLink was starting"
        past "$deadline" && fail "printer.state did not become IDLE with telemetry within ${START_TIMEOUT}s (last GET /api/v1/status: $last${idle_at:+, IDLE at $idle_at s})"
        sleep 0.2
    done
    ((ready)) && break
    # Port taken between pick and bind? Try another; anything else would fail again.
    if ! grep -qiE 'address already in use|errno 98' "$RUN/prusalink.log"; then break; fi
done
((ready)) || fail "PrusaLink did not start"
rm -f "$RUN/.body" "$RUN/.storage"
log "PrusaLink ready on http://$HOST:$PORT after $(since "$t_launch") s (first HTTP answer ${first_http:-?} s, first 200 ${first_200:-?} s, IDLE ${idle_at:-?} s, then telemetry and storage; pid $PL_PID; total setup $(since "$T0") s; run dir $RUN)"

# ---- run CMD ---------------------------------------------------------------
export PRUSALINK_URL="http://$HOST:$PORT"
export PRUSALINK_API_KEY="$API_KEY"
export PRUSALINK_USER="$USER_NAME"
export PRUSALINK_PASSWORD="$PASSWORD"
export PRUSALINK_RUN_DIR="$RUN"
# The same server for the generic live harness (polyprint-conformance's `live` test).
export POLYPRINT_LIVE_BACKEND=prusalink
export POLYPRINT_LIVE_URL="$PRUSALINK_URL"
export POLYPRINT_LIVE_KEY="$API_KEY"
export POLYPRINT_LIVE_OPTIONS=""
t_cmd=$EPOCHREALTIME
# In the background plus `wait`, so that a SIGTERM/SIGINT to this script is
# handled at once (bash defers traps while a foreground command runs); the
# explicit <&0 keeps CMD's stdin (a background job would get /dev/null).
"$@" <&0 &
CMD_PID=$!
wait "$CMD_PID"
rc=$?
CMD_PID=""
log "command exited with status $rc after $(since "$t_cmd") s"
# A failing command may be the server's doing: show what it logged.
((rc == 0)) || tail_logs
exit "$rc"
