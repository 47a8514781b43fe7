#!/usr/bin/env bash
# End-to-end check of the PrusaLink harness, with curl. Run it inside
# with-server.sh:
#
#   scripts/prusalink/with-server.sh scripts/prusalink/smoke.sh
#
# Checks auth (X-Api-Key, Digest, wrong key/digest), version/info/storage,
# uploads a small G-code file (PUT, 201; 409 again without Overwrite), waits
# until it is visible, prints it (204 -> PRINTING with a job id), pauses (204
# -> PAUSED; pausing again 409), resumes, stops (DELETE -> STOPPED, then IDLE
# after PrusaLink's 11 s), prints it again to FINISHED, deletes it, and checks
# that the daemon listens on 127.0.0.1 only and has no UDP socket (zeroconf is
# stubbed). Takes about 45 s. SMOKE_OUT=<dir> keeps every response there.
# Exit status: 0 = all checks passed; 1 = a check failed.
set -uo pipefail

: "${PRUSALINK_URL:?run me inside scripts/prusalink/with-server.sh}"
: "${PRUSALINK_API_KEY:?}" "${PRUSALINK_PASSWORD:?}" "${PRUSALINK_USER:?}"
PY="${PYTHON:-python3}"
OUT="${SMOKE_OUT:-}"
KEEP=1
if [[ -z "$OUT" ]]; then OUT="$(mktemp -d)"; KEEP=0; fi
mkdir -p "$OUT"
cleanup() { ((KEEP)) || rm -rf "$OUT"; }
trap cleanup EXIT

T0=$EPOCHREALTIME
t() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%6.2f", b-a}'; }
FAILS=0
PASSES=0
ok() { PASSES=$((PASSES + 1)); echo "$(t) ok   $*"; }
bad() { FAILS=$((FAILS + 1)); echo "$(t) FAIL $*"; }
# check LABEL GOT WANT
check() { if [[ "$2" == "$3" ]]; then ok "$1: $2"; else bad "$1: got '$2', want '$3'"; fi; }

# api NAME METHOD PATH [CURL ARGS...]: prints the status code; body in $OUT/NAME.json
api() {
    local name=$1 method=$2 path=$3
    shift 3
    curl -s -o "$OUT/$name.json" -w '%{http_code}' --max-time 10 -X "$method" \
        -H "X-Api-Key: $PRUSALINK_API_KEY" "$@" "$PRUSALINK_URL$path" || echo 000
}
# field NAME a.b.c: prints that field of $OUT/NAME.json ("None" when absent)
field() {
    "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print(d)' "$OUT/$1.json" "$2" 2>/dev/null || echo None
}
state() { api _status GET /api/v1/status >/dev/null; field _status printer.state; }
# wait_state STATE TIMEOUT_S
wait_state() {
    local i now
    for ((i = 0; i < $2 * 10; i++)); do
        now="$(state)"
        if [[ "$now" == "$1" ]]; then ok "state $1"; return 0; fi
        sleep 0.1
    done
    bad "state $1 not reached within $2 s (now $now)"
    return 1
}
# present NAME FIELD...: each field is present (not None) in $OUT/NAME.json
present() {
    local name=$1 f v
    shift
    for f in "$@"; do
        v="$(field "$name" "$f")"
        if [[ "$v" != None ]]; then ok "$name has $f ($v)"; else bad "$name lacks $f"; fi
    done
}

# ---- read endpoints + auth -------------------------------------------------
check "GET /api/version" "$(api version GET /api/version)" 200
check "version.server" "$(field version server)" 0.8.1
check "version.original" "$(field version original)" "PrusaLink I3MK3S"
check "GET /api/v1/info" "$(api info GET /api/v1/info)" 200
check "GET /api/v1/storage" "$(api storage GET /api/v1/storage)" 200
check "local storage available" "$(field storage storage_list | grep -o "'available': True" | head -n1)" "'available': True"
check "GET /api/v1/status (X-Api-Key)" "$(api status_idle GET /api/v1/status)" 200
check "printer.state" "$(field status_idle printer.state)" IDLE
present status_idle printer.temp_nozzle printer.target_nozzle printer.temp_bed printer.target_bed \
    printer.axis_x printer.axis_y printer.axis_z printer.fan_hotend printer.fan_print
check "GET /api/v1/status (Digest)" "$(curl -s -o /dev/null -w '%{http_code}' --digest \
    -u "$PRUSALINK_USER:$PRUSALINK_PASSWORD" "$PRUSALINK_URL/api/v1/status")" 200
check "wrong digest password" "$(curl -s -o /dev/null -w '%{http_code}' --digest \
    -u "$PRUSALINK_USER:wrong-$PRUSALINK_PASSWORD" "$PRUSALINK_URL/api/v1/status")" 401
check "no credentials" "$(curl -s -o /dev/null -w '%{http_code}' "$PRUSALINK_URL/api/v1/status")" 401
check "wrong X-Api-Key" "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Api-Key: wrong' \
    "$PRUSALINK_URL/api/v1/status")" 403
check "GET /api/v1/job when idle" "$(api job_idle GET /api/v1/job)" 204

# ---- upload ----------------------------------------------------------------
# ~16 s of moves (1 s each at F3000), progress via M73, targets without waiting.
NAME=polyprint-smoke.gcode
{
    echo "; polyprint PrusaLink smoke test"
    echo "M104 S215"
    echo "M140 S60"
    echo "G90"
    echo "M83"
    echo "G28"
    echo "M73 P0 R1"
    for i in $(seq 1 16); do
        echo "G1 X$(((i % 2) * 50 + 10)) Y$((10 + i)) Z0.2 E1.0 F3000"
        if ((i % 4 == 0)); then echo "M73 P$((i * 100 / 16)) R$(((16 - i) / 4))"; fi
    done
    echo "M104 S0"
    echo "M140 S0"
} >"$OUT/$NAME"
check "PUT file" "$(api upload PUT "/api/v1/files/local/$NAME" \
    -H 'Content-Type: text/x.gcode' --data-binary @"$OUT/$NAME")" 201
t_up=$EPOCHREALTIME
for ((i = 0; i < 50; i++)); do
    [[ "$(api file_info GET "/api/v1/files/local/$NAME")" == 200 ]] && break
    sleep 0.05
done
check "GET file after PUT" "$(api file_info GET "/api/v1/files/local/$NAME")" 200
echo "$(t)      (visible $(awk -v a="$t_up" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}') s after the PUT)"
check "PUT again without Overwrite" "$(api upload_again PUT "/api/v1/files/local/$NAME" \
    -H 'Content-Type: text/x.gcode' --data-binary @"$OUT/$NAME")" 409
check "GET /api/v1/files/local" "$(api files_local GET /api/v1/files/local)" 200

# ---- print, pause, resume, stop ----------------------------------------------
check "POST file (start print)" "$(api print_start POST "/api/v1/files/local/$NAME")" 204
wait_state PRINTING 5
check "start while printing" "$(api print_start_again POST "/api/v1/files/local/$NAME")" 409
check "GET /api/v1/job" "$(api job_printing GET /api/v1/job)" 200
ID="$(field job_printing id)"
if [[ "$ID" =~ ^[0-9]+$ ]]; then ok "job id $ID"; else bad "job id '$ID'"; fi
sleep 5  # let a few moves, M73 lines and a telemetry report through
api status_printing GET /api/v1/status >/dev/null
check "status.job.id" "$(field status_printing job.id)" "$ID"
present status_printing job.progress job.time_remaining printer.temp_nozzle printer.target_nozzle
check "target_nozzle while printing" "$(field status_printing printer.target_nozzle)" 215.0
check "PUT job pause" "$(api job_pause PUT "/api/v1/job/$ID/pause")" 204
wait_state PAUSED 10
api status_paused GET /api/v1/status >/dev/null
present status_paused job.progress job.time_remaining printer.axis_x printer.axis_y
check "pause while paused" "$(api job_pause_again PUT "/api/v1/job/$ID/pause")" 409
check "resume with a wrong id" "$(api job_resume_wrong PUT "/api/v1/job/$((ID + 100))/resume")" 404
check "PUT job resume" "$(api job_resume PUT "/api/v1/job/$ID/resume")" 204
wait_state PRINTING 5
sleep 1
check "DELETE job (stop)" "$(api job_stop DELETE "/api/v1/job/$ID")" 204
wait_state STOPPED 5
check "GET /api/v1/job when stopped" "$(api job_stopped GET /api/v1/job)" 204
wait_state IDLE 20

# ---- a print to the end --------------------------------------------------------
check "POST file (second print)" "$(api print_start_2 POST "/api/v1/files/local/$NAME")" 204
wait_state PRINTING 5
api status_printing_2 GET /api/v1/status >/dev/null
ID2="$(field status_printing_2 job.id)"
if [[ "$ID2" =~ ^[0-9]+$ && "$ID" =~ ^[0-9]+$ && "$ID2" -gt "$ID" ]]; then
    ok "second job id $ID2 > $ID"
else
    bad "second job id '$ID2' (first $ID)"
fi
wait_state FINISHED 60
check "GET /api/v1/job when finished" "$(api job_finished GET /api/v1/job)" 204
check "legacy /api/printer" "$(api legacy_printer GET /api/printer)" 200
check "legacy state.flags.finished" "$(field legacy_printer state.flags.finished)" True
wait_state IDLE 20
check "DELETE file" "$(api file_delete DELETE "/api/v1/files/local/$NAME")" 204

# ---- network: loopback only, no zeroconf -------------------------------------
PORT="${PRUSALINK_URL##*:}"
if command -v ss >/dev/null 2>&1; then
    pid="$(ss -ltnpH "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2)"
    if [[ -n "$pid" ]]; then
        tcp="$(ss -ltnpH 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | sort -u | tr '\n' ' ')"
        if [[ -n "$tcp" ]] && ! tr ' ' '\n' <<<"$tcp" | grep -v '^127\.0\.0\.1:' | grep -q .; then
            ok "PrusaLink (pid $pid) listens on loopback only: $tcp"
        else
            bad "PrusaLink (pid $pid) listens on: $tcp"
        fi
        # (util.get_local_ip() briefly connect()s a UDP socket to 8.8.8.8:1 as a
        # route lookup, sending nothing: only an mDNS socket counts.)
        udp="$(ss -uanpH 2>/dev/null | grep "pid=$pid," | awk '$4 ~ /:5353$/ {print $4}' | tr '\n' ' ')"
        if [[ -z "$udp" ]]; then ok "PrusaLink has no mDNS (UDP 5353) socket"; else bad "PrusaLink has mDNS sockets: $udp"; fi
    else
        bad "no process found listening on port $PORT"
    fi
else
    echo "$(t)      (ss not found: network checks skipped)"
fi

echo "smoke: $PASSES passed, $FAILS failed"
((FAILS == 0))
