#!/usr/bin/env bash
# scripts/bench-profile.sh — where the gateway spends its CPU per request (issue #8).
#
# Runs the release gateway (seed capability, stub upstream) under valgrind's callgrind with
# instrumentation off, warms up, switches it on for exactly N requests of one row (wrk,
# one connection by default, every answer checked as in bench.sh), switches it off, stops
# the gateway, and prints instructions and allocations per request plus
# the top functions.
# Instruction counts do not depend on how busy the machine is: usable on a shared machine.
#
# With --strace: no valgrind; strace -c -f attached for the N requests instead, printing
# system calls per request (these never show in callgrind, and cost the most CPU here).
# With --perf: `perf record -e cpu-clock` (a timer, no hardware counters needed) of the
# gateway for the N requests, printing the top symbols, kernel ones included: where the
# kernel time of a row goes. Timer samples, so noisier than callgrind; use many requests.
#
# Usage: scripts/bench-profile.sh [--strace|--perf] [--requests N] [--warmup N] [--connections N]
#                                 [--no-build] [--keep] ROW
#   ROW         rest-get | rest-post | mcp-get | mcp-create
#   --requests  measured requests (default 1000)
#   --warmup    requests before measuring (default 200)
#   --connections  concurrent connections of the load generator (default 1)
#   --keep      keep the temp dir (callgrind.out for callgrind_annotate / kcachegrind)
# Environment: BENCH_CALLGRIND_ARGS, more valgrind options (e.g. --branch-sim=yes: the
#   simulated branch mispredictions, per function with callgrind_annotate --show=Bcm);
#   BENCH_PERF_EVENTS, what --perf records (default `-e cpu-clock -F 20000`; e.g.
#   `-e sched:sched_switch`: where in the gateway the stub preempts it, from the stacks).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REQUESTS=1000
WARMUP_N=200
CONNS=1
BUILD=1
INSTALL=1
KEEP=0
ROW_NAME=""
TOOL=callgrind
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-1}

while [[ $# -gt 0 ]]; do
  case $1 in
    --requests) REQUESTS=${2:?}; shift ;;
    --warmup) WARMUP_N=${2:?}; shift ;;
    --connections) CONNS=${2:?}; shift ;;
    --no-build) BUILD=0 ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    --strace) TOOL=strace ;;
    --perf) TOOL=perf ;;
    -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    rest-get|rest-post|mcp-get|mcp-create) ROW_NAME=$1 ;;
    *) echo "bench-profile: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -n $ROW_NAME ]] || { echo "bench-profile: which row? rest-get|rest-post|mcp-get|mcp-create" >&2; exit 2; }

# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
trap 'log "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
need_tools wrk
if [[ $TOOL == callgrind ]]; then
  command -v valgrind >/dev/null || install_pkg valgrind
elif [[ $TOOL == perf ]]; then
  command -v perf >/dev/null || install_pkg linux-perf
else
  command -v strace >/dev/null || install_pkg strace
fi
build_binaries
make_seed_copy
write_mcp_args

OUT="$TMP/callgrind.out"
start_stub prof
[[ $TOOL == callgrind ]] \
  && GATEWAY_WRAPPER=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$OUT"
    ${BENCH_CALLGRIND_ARGS:-})
start_gateway prof "$SEED_COPY"
log "gateway (pid $GW_PID) starting${GATEWAY_WRAPPER[*]:+ under callgrind}"
gateway_ready prof 120000 >/dev/null

case $ROW_NAME in
  rest-get)
    URL="http://127.0.0.1:$REST_PORT/v1/admin/identities/$GET_ID"
    ENVS=(BENCH_STATUS=200 "BENCH_CONTAINS=$GET_ID") ;;
  rest-post)
    URL="http://127.0.0.1:$REST_PORT/v1/admin/identities"
    ENVS=(BENCH_METHOD=POST "BENCH_BODY_FILE=$BENCH/create-identity.json" BENCH_STATUS=201
      "BENCH_CONTAINS=$CREATED_ID" "BENCH_HEADERS=Content-Type: application/json") ;;
  mcp-get | mcp-create)
    mcp_init prof || die "MCP: $MCP_WHY"
    URL="http://127.0.0.1:$MCP_PORT$MCP_PATH"
    if [[ $ROW_NAME == mcp-get ]]; then
      ENVS=(BENCH_MCP_TOOL=get-identity "BENCH_MCP_ARGS_FILE=$GET_ARGS"
        "BENCH_CONTAINS=\"isError\":false|$GET_ID")
    else
      ENVS=(BENCH_MCP_TOOL=create-identity "BENCH_MCP_ARGS_FILE=$CREATE_ARGS"
        "BENCH_CONTAINS=\"isError\":false|$CREATED_ID")
    fi
    ENVS+=(BENCH_STATUS=200 "BENCH_HEADERS=$(mcp_headers)") ;;
esac

# run_n TAG N: exactly N checked requests; fails on a bad answer.
run_n() {
  local tag=$1 n=$2 i
  start "wrk-$tag" "$LOADGEN_CPU" env "${ENVS[@]}" "BENCH_MAX_REQUESTS=$n" \
    wrk -t1 "-c$CONNS" -d600s --timeout 30s -s "$LUA" "$URL"
  local pid=$BG_PID
  for ((i = 0; i < 60000; i++)); do
    grep -q '^BENCH_DONE' "$TMP/wrk-$tag.err" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  stop_pid "$pid"
  local done_line
  done_line=$(grep '^BENCH_DONE' "$TMP/wrk-$tag.err" || true)
  [[ $done_line == *" bad=0" ]] || die "$tag: ${done_line:-no answers}: $(head -c 400 "$TMP/wrk-$tag.err")"
}

[[ $WARMUP_N == 0 ]] || run_n warmup "$WARMUP_N"

if [[ $TOOL == strace ]]; then
  start strace "$SERVER_CPU" strace ${BENCH_STRACE_ARGS:--c} -f -p "$GW_PID" -o "$TMP/strace.txt"
  STRACE_PID=$BG_PID
  sleep 0.5 # attached to every thread
  run_n measured "$REQUESTS"
  kill -INT "$STRACE_PID"
  for ((i = 0; i < 500; i++)); do kill -0 "$STRACE_PID" 2>/dev/null || break; sleep 0.01; done
  stop_pid "$STRACE_PID"
  echo
  echo "gateway $ROW_NAME: system calls per request ($REQUESTS requests on $CONNS connections, strace -c -f)"
  awk -v n="$REQUESTS" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
      calls = $4; errs = (NF == 6 ? $5 : 0); name = $NF
      if (name == "total") next
      printf "%8.2f  %-16s%s\n", calls / n, name, errs ? sprintf(" (%.2f failed)", errs / n) : ""
      total += calls }
    END { printf "%8.2f  total\n", total / n }' "$TMP/strace.txt" | sort -rn
  exit 0
fi

if [[ $TOOL == perf ]]; then
  # shellcheck disable=SC2086 # options, split on purpose
  start perf "$LOADGEN_CPU" perf record -q ${BENCH_PERF_EVENTS:--e cpu-clock -F 20000} -g -o "$TMP/perf.data" -p "$GW_PID"
  PERF_PID=$BG_PID
  sleep 0.5
  read -r gwv0 gwn0 < <(switches "$GW_PID")
  read -r stv0 stn0 < <(switches "$STUB_PID")
  run_n measured "$REQUESTS"
  read -r gwv1 gwn1 < <(switches "$GW_PID")
  read -r stv1 stn1 < <(switches "$STUB_PID")
  kill -INT "$PERF_PID"
  for ((i = 0; i < 1000; i++)); do kill -0 "$PERF_PID" 2>/dev/null || break; sleep 0.01; done
  stop_pid "$PERF_PID"
  echo
  echo "gateway $ROW_NAME: where the time goes ($REQUESTS requests on $CONNS connections, perf cpu-clock, self time)"
  awk -v n="$REQUESTS" -v gv=$((gwv1 - gwv0)) -v gn=$((gwn1 - gwn0)) -v sv=$((stv1 - stv0)) \
    -v sn=$((stn1 - stn0)) 'BEGIN { printf "context switches per request (voluntary + preempted):" \
      " gateway %.2f + %.2f, stub %.2f + %.2f\n", gv / n, gn / n, sv / n, sn / n }'
  perf report -i "$TMP/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null \
    | awk '!/^#/ && NF && ++k <= 60'
  [[ $KEEP == 1 ]] && log "perf report -i $TMP/perf.data (kept)"
  exit 0
fi

callgrind_control -i on "$GW_PID" >/dev/null
run_n measured "$REQUESTS"
callgrind_control -i off "$GW_PID" >/dev/null
# Graceful stop so callgrind writes its file (slow under valgrind: allow a minute).
kill -TERM "$GW_PID"
for ((i = 0; i < 6000; i++)); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.01; done
stop_pid "$GW_PID"
[[ -s $OUT ]] || die "callgrind wrote nothing ($TMP/gateway-prof.err)"

TOTAL=$(awk '/^totals:/ { t = $2 } /^summary:/ { s = $2 } END { print (t ? t : s) + 0 }' "$OUT")
# Calls into the allocator: `calls=` lines under a cfn= naming jemalloc's entry points
# (what Rust's allocation shims call; with LTO the shims are inlined into their callers,
# so they are not what is counted) or C's malloc/realloc/calloc (names are compressed:
# "(id) name" the first time, "(id)" after).
ALLOCS=$(awk '
  /^c?fn=/ {
    s = $0; sub(/^c?fn=/, "", s); cur = s
    if (match(s, /^\([0-9]+\)/)) {
      id = substr(s, 1, RLENGTH); rest = substr(s, RLENGTH + 2)
      if (rest != "") names[id] = rest
      cur = names[id]
    }
    if ($0 ~ /^fn=/) cur = ""
    next
  }
  /^calls=/ { split($1, a, "="); if (cur ~ /^(_rjem_(malloc|mallocx|calloc|realloc|rallocx)|malloc|realloc|calloc)$/) n += a[2]; next }
  END { print n + 0 }' "$OUT")

echo
echo "gateway $ROW_NAME under callgrind: $REQUESTS requests on $CONNS connections after $WARMUP_N warm-up"
awk -v t="$TOTAL" -v a="$ALLOCS" -v n="$REQUESTS" 'BEGIN {
  printf "instructions per request: %.0f\nallocations (alloc, alloc_zeroed, realloc) per request: %.1f\n", t / n, a / n }'
echo
# top KIND: callgrind_annotate's file:function lines summed per function, per request.
top() {
  local flag=() n=$2
  [[ $1 == inclusive ]] && flag=(--inclusive=yes)
  { callgrind_annotate "${flag[@]}" --auto=no --threshold=99 "$OUT" 2>/dev/null || true; } \
    | awk -v n="$REQUESTS" '
    /^Ir +file:function/ { on = 1; getline; next }
    on && /^-+$/ { on = 0 }
    on && $2 ~ /^\(/ {
      ir = $1; gsub(/,/, "", ir)
      f = $0; sub(/^ *[0-9,]+ +\([ 0-9.]+%\) +/, "", f); sub(/ \[[^]]*\]$/, "", f)
      sub(/^[^:]*:/, "", f)
      sum[f] += ir
    }
    END { for (f in sum) printf "%10.0f  %s\n", sum[f] / n, f }' | sort -rn | head -"$n" || true
}
echo "top functions by own instructions (Ir per request, inlined code counted where it lands):"
top self 30
echo
echo "top functions by inclusive instructions (Ir per request):"
top inclusive 45
[[ $KEEP == 1 ]] && log "callgrind_annotate $OUT (kept)"
exit 0
