#!/usr/bin/env bash
# shellcheck disable=SC2317  # stop_server/cleanup are reached via trap
# Run a command against a fresh, real OctoPrint 1.11.x with its Virtual Printer.
#
#   scripts/octoprint/with-server.sh CMD [ARGS...]
#
# Starts `octoprint serve` on 127.0.0.1 (only) on a free port, with a fresh
# temporary basedir (every online plugin and discovery disabled, virtual
# printer enabled without simulated errors, a random API key), waits until
# /api/version answers 200, connects the printer to port VIRTUAL, waits until
# /api/printer answers 200 with a tool0 temperature, then runs CMD with
#
#   OCTOPRINT_URL=http://127.0.0.1:<port>
#   OCTOPRINT_API_KEY=<key>
#   POLYPRINT_LIVE_BACKEND=octoprint, POLYPRINT_LIVE_URL, POLYPRINT_LIVE_KEY and
#   POLYPRINT_LIVE_OPTIONS (the generic live harness of polyprint-conformance)
#   OCTOPRINT_BASEDIR=<basedir>   (serve.log is in there)
#
# in its environment. The server is always stopped afterwards (SIGTERM, then
# SIGKILL after 10 s) and the basedir removed unless POLYPRINT_KEEP_OCTOPRINT=1.
# Exits with CMD's exit status (1 if the server could not be started).
#
# The venv is ${POLYPRINT_OCTOPRINT_VENV:-<repo>/target/octoprint-venv};
# setup.sh is run first if it is missing.
# POLYPRINT_OCTOPRINT_START_TIMEOUT (default 60) bounds the wait for startup.
# See shared/specs/octoprint.md §2, §3, §4 and §11.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VENV="${POLYPRINT_OCTOPRINT_VENV:-$REPO_ROOT/target/octoprint-venv}"
START_TIMEOUT="${POLYPRINT_OCTOPRINT_START_TIMEOUT:-60}"
CONNECT_TIMEOUT=10
STOP_TIMEOUT=10
HOST=127.0.0.1

log() { printf '[octoprint] %s\n' "$*" >&2; }

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { log "OCTOPRINT UNAVAILABLE: curl not found"; exit 1; }

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }

# ---- venv ----------------------------------------------------------------
# setup.sh writes the marker only after a verified install, so a venv that a
# concurrent setup.sh is still filling counts as missing (setup.sh then waits
# for the other one on its lock).
if [[ ! -x "$VENV/bin/octoprint" || ! -f "$VENV/.polyprint-octoprint-ok" ]]; then
    log "no complete OctoPrint venv at $VENV; running setup.sh"
    "$SCRIPT_DIR/setup.sh" || exit 1
fi
PY="$VENV/bin/python"

# ---- state + cleanup -----------------------------------------------------
BASE=""
SERVER_PID=""

tail_log() {
    if [[ -n "$BASE" && -f "$BASE/serve.log" ]]; then
        log "---- last 40 lines of $BASE/serve.log ----"
        tail -n 40 "$BASE/serve.log" >&2
        log "----"
    fi
}

stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    local pid=$SERVER_PID t=$EPOCHREALTIME kids
    SERVER_PID=""
    if kill -0 "$pid" 2>/dev/null; then
        # Remember its children (e.g. a gcode analysis subprocess) by pid.
        kids="$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
        kill -TERM "$pid" 2>/dev/null
        local i
        for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "server pid $pid still running after ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
        for k in $kids; do kill -KILL "$k" 2>/dev/null; done
    fi
    wait "$pid" 2>/dev/null
    log "server stopped in $(since "$t") s"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    if [[ -n "$BASE" && -d "$BASE" ]]; then
        if [[ "${POLYPRINT_KEEP_OCTOPRINT:-0}" == 1 ]]; then
            log "kept basedir $BASE (log: $BASE/serve.log)"
        else
            rm -rf "$BASE"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    log "OCTOPRINT UNAVAILABLE: $*"
    tail_log
    exit 1
}

# ---- basedir -------------------------------------------------------------
BASE="$(mktemp -d "${TMPDIR:-/tmp}/polyprint-octoprint.XXXXXX")" || fail "mktemp -d failed"
API_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')" || fail "venv python does not run"

cat >"$BASE/config.yaml" <<'YAML'
server:
  firstRun: false              # skip setup wizard
  onlineCheck:
    enabled: false             # no connectivity probe (OctoPrint then ASSUMES online)
  pluginBlacklist:
    enabled: false             # no blacklist download
serial:
  autoconnect: false           # with-server.sh connects via POST /api/connection
plugins:
  _disabled:                   # bundled plugins that do network I/O at startup
    - announcements            # RSS feeds from octoprint.org
    - health_check             # queries pypi.org + get.octoprint.org
    - pluginmanager            # plugins.octoprint.org
    - softwareupdate           # version checks
    - tracking                 # anonymous usage tracking
    - discovery                # zeroconf/SSDP multicast; also costs ~2.5 s startup
  virtual_printer:
    enabled: true              # adds serial port "VIRTUAL"
    simulated_errors: []       # default injects resends at lines 100-115 (~1 s stall)
YAML

cat >"$BASE/users.yaml" <<YAML
_version: 2
admin:
  active: true
  apikey: $API_KEY
  groups: [admins]
  password: 'x'            # not a valid hash, so password login is impossible; API key still works
  permissions: []
  roles: [user, admin]
  settings: {}
YAML

# ---- HTTP helpers ----------------------------------------------------------
# http_code METHOD PATH [JSON]: prints the status code ("000" on any transport
# or protocol error, e.g. the startup intermediary's HTTP/0.9 "Not found");
# the body goes to $BASE/.body.
http_code() {
    local method=$1 path=$2 data=${3-}
    local args=(-s -o "$BASE/.body" -w '%{http_code}' --max-time 5
        -H "X-Api-Key: $API_KEY" -X "$method")
    [[ -n "$data" ]] && args+=(-H 'Content-Type: application/json' --data "$data")
    curl "${args[@]}" "http://$HOST:$PORT$path" 2>/dev/null || true
}

# ---- start ---------------------------------------------------------------
free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ready=0
for attempt in 1 2 3; do
    PORT="$(free_port)" || fail "could not pick a free port"
    t_launch=$EPOCHREALTIME
    # --iknowwhatimdoing: needed when running as root (spec §10 quirk 16).
    "$VENV/bin/octoprint" serve --basedir "$BASE" --host "$HOST" --port "$PORT" \
        --iknowwhatimdoing </dev/null >>"$BASE/serve.log" 2>&1 &
    SERVER_PID=$!
    deadline=$(awk -v a="$EPOCHREALTIME" -v t="$START_TIMEOUT" 'BEGIN{printf "%.3f", a+t}')
    while :; do
        code="$(http_code GET /api/version)"
        if [[ "$code" == 200 ]]; then ready=1; break; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID" 2>/dev/null; src=$?
            SERVER_PID=""
            log "octoprint serve exited (rc=$src) before becoming ready on port $PORT (attempt $attempt)"
            break
        fi
        if awk -v d="$deadline" -v n="$EPOCHREALTIME" 'BEGIN{exit !(n>d)}'; then
            fail "GET /api/version did not answer 200 within ${START_TIMEOUT}s (last status $code)"
        fi
        sleep 0.05
    done
    ((ready)) && break
    # Port stolen between pick and bind? Try another; anything else will fail again.
    if ! grep -qiE 'address already in use|errno 98' "$BASE/serve.log"; then break; fi
done
((ready)) || fail "octoprint serve did not start"
log "OctoPrint $(sed -n 's/.*"server": *"\([^"]*\)".*/\1/p' "$BASE/.body") ready on http://$HOST:$PORT after $(since "$t_launch") s (pid $SERVER_PID, basedir $BASE)"

# ---- connect the virtual printer -------------------------------------------
t_conn=$EPOCHREALTIME
code="$(http_code POST /api/connection '{"command":"connect","port":"VIRTUAL","baudrate":115200}')"
[[ "$code" == 204 ]] || fail "POST /api/connection answered $code: $(head -c 300 "$BASE/.body")"
deadline=$(awk -v a="$EPOCHREALTIME" -v t="$CONNECT_TIMEOUT" 'BEGIN{printf "%.3f", a+t}')
first200=""
while :; do
    code="$(http_code GET /api/printer)"
    if [[ "$code" == 200 ]]; then
        # temperature is {} right after connect; the first temperature
        # autoreport only comes ~2 s later, so ask for one report (M105) now.
        grep -q '"tool0"' "$BASE/.body" && break
        if [[ -z "$first200" ]]; then
            first200="$(since "$t_conn")"
            http_code POST /api/printer/command '{"command":"M105"}' >/dev/null
        fi
    fi
    if awk -v d="$deadline" -v n="$EPOCHREALTIME" 'BEGIN{exit !(n>d)}'; then
        fail "printer not Operational with a tool0 temperature within ${CONNECT_TIMEOUT}s (last GET /api/printer: $code $(head -c 300 "$BASE/.body"))"
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "octoprint serve died while connecting"
    sleep 0.05
done
log "virtual printer connected: /api/printer 200 after ${first200:-?} s, tool0 temperature after $(since "$t_conn") s (setup total $(since "$T0") s)"
rm -f "$BASE/.body"

# ---- run CMD ---------------------------------------------------------------
export OCTOPRINT_URL="http://$HOST:$PORT"
export OCTOPRINT_API_KEY="$API_KEY"
export OCTOPRINT_BASEDIR="$BASE"
# The same server for the generic live harness (polyprint-conformance's `live` test).
export POLYPRINT_LIVE_BACKEND=octoprint
export POLYPRINT_LIVE_URL="$OCTOPRINT_URL"
export POLYPRINT_LIVE_KEY="$API_KEY"
export POLYPRINT_LIVE_OPTIONS="port=VIRTUAL,baudrate=115200"
t_cmd=$EPOCHREALTIME
"$@"
rc=$?
log "command exited with status $rc after $(since "$t_cmd") s"
exit "$rc"
