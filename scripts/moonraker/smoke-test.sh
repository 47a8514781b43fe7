#!/usr/bin/env bash
# End-to-end check of the Moonraker test stack, with curl.
#
#   scripts/moonraker/with-server.sh scripts/moonraker/smoke-test.sh
#
# Runs against the stack with-server.sh started (MOONRAKER_URL,
# MOONRAKER_RUN_DIR): info endpoints, an upload, a print that is paused,
# resumed and cancelled, a second print to completion, temperatures, G-code
# errors, a websocket subscription, emergency stop + FIRMWARE_RESTART, and the
# listening sockets of the three processes (loopback only). Where the recorded
# samples (<repo>/adapters/moonraker/tests/fixtures/samples/moonraker or POLYPRINT_MOONRAKER_SAMPLES)
# exist, the JSON shapes are compared with them (json_shape.py).
# Answers are kept in $MOONRAKER_RUN_DIR/smoke/. Ends with "N passed, N failed";
# exit status 0 only if nothing failed. Needs curl and jq.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
: "${MOONRAKER_URL:?run this under scripts/moonraker/with-server.sh}"
: "${MOONRAKER_RUN_DIR:?run this under scripts/moonraker/with-server.sh}"
SAMPLES="${POLYPRINT_MOONRAKER_SAMPLES:-$REPO_ROOT/adapters/moonraker/tests/fixtures/samples/moonraker}"
OUT="$MOONRAKER_RUN_DIR/smoke"
mkdir -p "$OUT"
PY="${POLYPRINT_KLIPPY_VENV:-$REPO_ROOT/target/klippy-venv}/bin/python"
[[ -x "$PY" ]] || PY=python3
command -v jq >/dev/null 2>&1 || { echo "smoke: jq is required" >&2; exit 1; }

PASS=0 FAIL=0
say() { printf '[smoke] %s\n' "$*"; }
ok() { PASS=$((PASS + 1)); say "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); say "FAIL $*"; }
check() { # check DESCRIPTION TEST...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }

# call METHOD PATH NAME [curl args...]: body -> $OUT/NAME.json, prints status.
call() {
    local method=$1 path=$2 name=$3
    shift 3
    curl -s -o "$OUT/$name.json" -w '%{http_code}' --max-time 30 -X "$method" "$@" \
        "$MOONRAKER_URL$path" || true
}
jqf() { jq -r "$2" "$OUT/$1.json" 2>/dev/null; }

# shape NAME SAMPLE [--ignore PATH...]: compare $OUT/NAME.json with the sample.
shape() {
    local name=$1 sample=$2
    shift 2
    [[ -f "$SAMPLES/$sample" ]] || return 0
    local report
    if report="$("$PY" "$SCRIPT_DIR/json_shape.py" "$SAMPLES/$sample" "$OUT/$name.json" "$@")"; then
        ok "shape of $name matches $sample"
    else
        bad "shape of $name differs from $sample"
    fi
    [[ -n "$report" ]] && printf '%s\n' "$report"
}

QUERY='print_stats&virtual_sdcard&pause_resume&extruder=temperature,target,power&heater_bed=temperature,target,power&toolhead=position,homed_axes,print_time&webhooks&idle_timeout&display_status'
query() { call GET "/printer/objects/query?$QUERY" "$1" >/dev/null; }
ps_state() { # current print_stats.state
    curl -s --max-time 5 "$MOONRAKER_URL/printer/objects/query?print_stats=state" |
        jq -r '.result.status.print_stats.state' 2>/dev/null
}
klippy_state() {
    curl -s --max-time 5 "$MOONRAKER_URL/server/info" | jq -r '.result.klippy_state' 2>/dev/null
}
# wait_for FUNC WANT TIMEOUT: poll FUNC every 0.1 s; sets WAITED (s) and GOT.
WAITED="" GOT=""
wait_for() {
    local fn=$1 want=$2 timeout=$3 t=$EPOCHREALTIME
    while :; do
        GOT="$($fn)"
        WAITED="$(since "$t")"
        [[ "$GOT" == "$want" ]] && return 0
        awk -v w="$WAITED" -v m="$timeout" 'BEGIN{exit !(w>m)}' && return 1
        sleep 0.1
    done
}

# ---- info endpoints --------------------------------------------------------------
say "stack at $MOONRAKER_URL, run dir $MOONRAKER_RUN_DIR"
check "GET /server/info 200" test "$(call GET /server/info server_info)" = 200
check "klippy_state ready, connected" test "$(jqf server_info '.result.klippy_state + " " + (.result.klippy_connected|tostring)')" = "ready true"
check "no failed components" test "$(jqf server_info '.result.failed_components|length')" = 0
check "no missing klippy requirements" test "$(jqf server_info '.result.missing_klippy_requirements|length')" = 0
say "server warnings: $(jqf server_info '.result.warnings|length')"
shape server_info server_info.json --ignore result.warnings
check "GET /printer/info 200" test "$(call GET /printer/info printer_info)" = 200
check "printer state ready" test "$(jqf printer_info .result.state)" = ready
say "software_version: $(jqf printer_info .result.software_version)"
shape printer_info printer_info.json
check "GET /printer/objects/list 200" test "$(call GET /printer/objects/list objects_list)" = 200
say "objects: $(jqf objects_list '.result.objects|join(",")')"
check "GET /access/info 200" test "$(call GET /access/info access_info)" = 200
check "trusted loopback" test "$(jqf access_info .result.trusted)" = true

check "objects query (brief's list) 200" test \
    "$(call GET '/printer/objects/query?print_stats&extruder&heater_bed&virtual_sdcard&webhooks' objects_brief)" = 200
say "objects: $(jq -c '.result.status|{ps:.print_stats.state, e:.extruder.temperature, b:.heater_bed.temperature, wh:.webhooks.state}' "$OUT/objects_brief.json")"
# The thermistor reports start ~1.5 s after configuration.
t=$EPOCHREALTIME
while :; do
    query standby
    e="$(jqf standby .result.status.extruder.temperature)"
    awk -v e="$e" 'BEGIN{exit !(e>20 && e<30)}' && break
    awk -v w="$(since "$t")" 'BEGIN{exit !(w>5)}' && break
    sleep 0.25
done
check "extruder at ambient (~25 C) within 5 s (got $e after $(since "$t") s)" awk -v e="$e" 'BEGIN{exit !(e>20 && e<30)}'
check "standby: print_stats standby" test "$(jqf standby .result.status.print_stats.state)" = standby
shape standby objects_query_standby.json --ignore result.status.idle_timeout.state

# ---- upload -------------------------------------------------------------------------
GCODE="$OUT/smoke.gcode"
{
    echo "; polyprint smoke test: no heating, no extrusion"
    echo "G28"
    echo "G90"
    echo "SET_PRINT_STATS_INFO TOTAL_LAYER=2"
    for layer in 1 2; do
        echo "SET_PRINT_STATS_INFO CURRENT_LAYER=$layer"
        echo "G1 Z0.$((layer * 2)) F600"
        for i in 1 2 3 4 5 6 7 8 9 10; do
            if ((i % 2)); then echo "G1 X70 Y$((20 + i * 5)) F6000"; else echo "G1 X20 Y$((20 + i * 5)) F6000"; fi
        done
    done
    echo "G1 X0 Y0 F6000"
} >"$GCODE"
code="$(call POST /server/files/upload upload -F "file=@$GCODE;filename=smoke.gcode")"
check "upload 201" test "$code" = 201
check "upload action create_file" test "$(jqf upload .action)" = create_file
shape upload run2/files_upload.json
check "file listed" test "$(call GET '/server/files/list?root=gcodes' files_list)-$(jqf files_list '[.result[].path]|index("smoke.gcode")')" = 200-0

# ---- print 1: pause, resume, cancel ----------------------------------------------------
t=$EPOCHREALTIME
check "start 200" test "$(call POST '/printer/print/start?filename=smoke.gcode' print_start)" = 200
shape print_start print_start.json
t_started=$(since "$t")
check "printing after start (${t_started} s call)" wait_for ps_state printing 10
say "start -> printing in $WAITED s"
sleep 1
query printing
check "layers 2 total, current >= 1" test "$(jqf printing '(.result.status.print_stats.info.total_layer|tostring) + " " + ((.result.status.print_stats.info.current_layer >= 1)|tostring)')" = "2 true"
check "homed xyz" test "$(jqf printing .result.status.toolhead.homed_axes)" = xyz
check "virtual_sdcard active" test "$(jqf printing .result.status.virtual_sdcard.is_active)" = true
shape printing objects_query_printing.json
t=$EPOCHREALTIME
check "pause 200" test "$(call POST /printer/print/pause print_pause)" = 200
say "pause call returned after $(since "$t") s"
check "paused" wait_for ps_state paused 10
say "pause -> paused in $(since "$t") s"
query paused
check "is_paused true" test "$(jqf paused .result.status.pause_resume.is_paused)" = true
shape paused objects_query_paused.json
pos1="$(jqf paused '.result.status.toolhead.position|tostring')"
sleep 1
query paused2
check "toolhead stays still while paused" test "$(jqf paused2 '.result.status.toolhead.position|tostring')" = "$pos1"
t=$EPOCHREALTIME
check "resume 200" test "$(call POST /printer/print/resume print_resume)" = 200
check "printing again after resume" wait_for ps_state printing 10
say "resume -> printing in $(since "$t") s"
sleep 0.5
t=$EPOCHREALTIME
check "cancel 200" test "$(call POST /printer/print/cancel print_cancel)" = 200
say "cancel call returned after $(since "$t") s"
check "cancelled" wait_for ps_state cancelled 10
say "cancel -> cancelled in $(since "$t") s"
query cancelled
check "virtual_sdcard reset after cancel" test "$(jqf cancelled '(.result.status.virtual_sdcard.file_path|tostring) + " " + (.result.status.virtual_sdcard.progress|tostring)')" = "null 0"
shape cancelled objects_query_cancelled.json

# ---- print 2: to completion --------------------------------------------------------------
t=$EPOCHREALTIME
check "second start 200" test "$(call POST '/printer/print/start?filename=smoke.gcode' print_start_2)" = 200
check "printing (2nd)" wait_for ps_state printing 10
check "complete (2nd print)" wait_for ps_state complete 120
say "second print: start -> complete in $(since "$t") s"
query complete
check "progress 1.0, layer 2/2" test "$(jqf complete '(.result.status.virtual_sdcard.progress|tostring) + " " + (.result.status.print_stats.info.current_layer|tostring) + "/" + (.result.status.print_stats.info.total_layer|tostring)')" = "1 2/2"
say "print_stats: $(jq -c '.result.status.print_stats|{total_duration,print_duration,filament_used}' "$OUT/complete.json")"
shape complete objects_query_complete.json --ignore result.status.idle_timeout.state
check "history has completed + cancelled" test \
    "$(call GET '/server/history/list?limit=2&order=desc' history)-$(jqf history '[.result.jobs[].status]|join(",")')" = "200-completed,cancelled"

# ---- G-code, temperatures, websocket -------------------------------------------------------
check "SDCARD_RESET_FILE" test "$(call POST '/printer/gcode/script?script=SDCARD_RESET_FILE' gcode_reset)" = 200
check "standby after reset file" wait_for ps_state standby 2
check "start missing file 400" test "$(call POST '/printer/print/start?filename=missing.gcode' start_missing)" = 400
say "  message: $(jqf start_missing .error.message)"
check "SET_GCODE_OFFSET Z=abc 400" test "$(call POST '/printer/gcode/script?script=SET_GCODE_OFFSET%20Z%3Dabc' gcode_error)" = 400
say "  message: $(jqf gcode_error .error.message)"
shape gcode_error gcode_error.json
check "M104 S999 400" test "$(call POST '/printer/gcode/script?script=M104%20S999' gcode_range)" = 400
say "  message: $(jqf gcode_range .error.message)"

# The websocket client records 6 s while the extruder heats to 50 C.
"$PY" "$SCRIPT_DIR/ws_probe.py" "$MOONRAKER_URL" "$OUT/ws.json" 6 >"$OUT/ws.txt" 2>&1 &
ws_pid=$!
sleep 0.5
check "M104 S50 200" test "$(call POST '/printer/gcode/script?script=M104%20S50' gcode_M104)" = 200
shape gcode_M104 gcode_M104.json
sleep 0.3
query heating
check "extruder target 50" test "$(jqf heating .result.status.extruder.target)" = 50
wait "$ws_pid"
ws_rc=$?
sed 's/^/[smoke]   /' "$OUT/ws.txt"
check "websocket: identify, subscribe, notify_status_update" test "$ws_rc" = 0
query heated
say "extruder after ~6 s: $(jq -c '.result.status.extruder' "$OUT/heated.json")"
check "extruder heated towards 50 C" awk -v e="$(jqf heated .result.status.extruder.temperature)" 'BEGIN{exit !(e>40)}'
call POST '/printer/gcode/script?script=M104%20S0' gcode_off >/dev/null

# ---- listening sockets ----------------------------------------------------------------------
pids="$(pgrep -f "$MOONRAKER_RUN_DIR" | tr '\n' ' ')"
say "stack pids: $pids"
ss -Hltunp >"$OUT/listen.txt" 2>/dev/null
mine=""
for p in $pids; do mine+="$(grep "pid=$p," "$OUT/listen.txt")"$'\n'; done
mine="$(grep -v '^$' <<<"$mine" || true)"
say "listening: $(awk '{print $1, $5}' <<<"$mine" | tr '\n' ';')"
check "every listening inet socket is on 127.0.0.1" test -z "$(awk '{print $5}' <<<"$mine" | grep -v '^127\.0\.0\.1:' | grep -v '^$')"

# ---- emergency stop + firmware restart --------------------------------------------------------
check "emergency_stop 200" test "$(call POST /printer/emergency_stop estop)" = 200
check "klippy shutdown" wait_for klippy_state shutdown 5
call GET /printer/info printer_info_shutdown >/dev/null
say "state_message: $(jqf printer_info_shutdown .result.state_message | head -n1)"
shape printer_info_shutdown printer_info_shutdown.json
call GET /server/info server_info_shutdown >/dev/null
shape server_info_shutdown server_info_shutdown.json --ignore result.warnings
check "G28 refused while shut down" test "$(call POST '/printer/gcode/script?script=G28' gcode_G28_shutdown)" = 400
t=$EPOCHREALTIME
check "firmware_restart 200" test "$(call POST /printer/firmware_restart firmware_restart)" = 200
check "ready again after FIRMWARE_RESTART" wait_for klippy_state ready 20
say "firmware_restart -> ready in $(since "$t") s"
query after_restart
check "after restart: standby, homed none" test "$(jqf after_restart '.result.status.print_stats.state + " [" + .result.status.toolhead.homed_axes + "]"')" = "standby []"
t=$EPOCHREALTIME
while :; do
    query after_restart
    e="$(jqf after_restart .result.status.extruder.temperature)"
    awk -v e="$e" 'BEGIN{exit !(e>20)}' && break
    awk -v w="$(since "$t")" 'BEGIN{exit !(w>5)}' && break
    sleep 0.25
done
check "temperatures reported again after restart ($e C)" awk -v e="$e" 'BEGIN{exit !(e>20)}'
check "a print works after the restart" test "$(call POST '/printer/print/start?filename=smoke.gcode' print_start_3)" = 200
check "printing (3rd)" wait_for ps_state printing 10
check "cancel (3rd)" test "$(call POST /printer/print/cancel print_cancel_3)" = 200
check "cancelled (3rd)" wait_for ps_state cancelled 10

# Host-only RESTART keeps the MCU configured (klippy re-checks its config CRC).
# It waits for queued moves, so let the cancelled print's moves drain first.
idle_state() {
    curl -s --max-time 5 "$MOONRAKER_URL/printer/objects/query?idle_timeout=state" |
        jq -r '.result.status.idle_timeout.state' 2>/dev/null | sed 's/^Printing$/busy/;s/^\(Idle\|Ready\)$/idle/'
}
wait_for idle_state idle 10 >/dev/null
t=$EPOCHREALTIME
check "restart 200" test "$(call POST /printer/restart restart)" = 200
not_ready() { local s; s="$(klippy_state)"; [[ "$s" == ready ]] && echo ready || echo other; }
wait_for not_ready other 5 >/dev/null
say "  left ready after $WAITED s (state $(klippy_state))"
check "ready again after RESTART" wait_for klippy_state ready 20
say "restart -> ready in $(since "$t") s"

echo "moonraker smoke: $PASS passed, $FAIL failed"
((FAIL == 0))
