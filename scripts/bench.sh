#!/usr/bin/env bash
# scripts/bench.sh — the gateway's throughput / latency / memory benchmark (issue #8).
#
# One run measures, with the same load generator and the same CPU pinning for every row:
#   direct   wrk -> stub upstream
#   nginx    wrk -> nginx (reverse proxy, upstream keep-alive, adds Authorization) -> stub
#   gateway  wrk -> naftiko-gateway (seed capability) -> stub, REST GET/POST, MCP get/create
# plus the gateway's cold start to its first answer, and its RSS with the seed alone and
# with the 40 corpus files + the seed loaded. See docs/benchmarks.md.
#
# Usage: scripts/bench.sh [--smoke] [--duration SECS] [--rounds N] [--warmup SECS]
#                         [--connections N] [--threads N] [--cold-runs N] [--no-build]
#                         [--no-install] [--keep] [--pgo]
#   --smoke      1-second runs, no warm-up, one cold start: checks that everything works.
#                Exits non-zero only when something did not work (never on timing).
#   --duration   seconds per measured row (default 10)
#   --rounds     measure every row N times, rounds interleaved (direct, nginx, gateway,
#                then again, even rounds in reverse order), and report each row's median:
#                steadier ratios on a noisy machine; also a table of the ratios taken
#                within each round (default 1)
#   --keep       keep the temp dir (logs, generated configs) and print its path
#   --pgo        also measure the gateway built by scripts/build-pgo.sh (rows `gw+pgo`;
#                with --no-build: the one it built last, under target/pgo/use/)
# Environment: BENCH_LOADGEN_CPU (default 0), BENCH_SERVER_CPU (default 1); BENCH_STUB_SCHED
#   (e.g. -b): chrt policy of the stub, a diagnostic run where waking the stub never preempts
#   the proxy under test (the default, unset, is the issue's harness).
#   BENCH_GATEWAY: the gateway binary (default target/release/naftiko-gateway), for A/B runs.
#   BENCH_STEAL_MAX: the per-round table leaves out rounds where a row of the pair lost more
#   than this % of the two cores to the hypervisor (steal time; default 1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

DURATION=10
WARMUP=2
CONNS=32
THREADS=1
COLD_RUNS=5
ROUNDS=1
SMOKE=0
BUILD=1
INSTALL=1
KEEP=0
PGO=0
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
STEAL_MAX=${BENCH_STEAL_MAX:-1}


usage() { sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) SMOKE=1 ;;
    --duration) DURATION=${2:?--duration needs seconds}; shift ;;
    --warmup) WARMUP=${2:?--warmup needs seconds}; shift ;;
    --connections) CONNS=${2:?}; shift ;;
    --threads) THREADS=${2:?}; shift ;;
    --cold-runs) COLD_RUNS=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?--rounds needs a count}; shift ;;
    --no-build) BUILD=0 ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    --pgo) PGO=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $SMOKE == 1 ]]; then
  DURATION=1
  WARMUP=0
  COLD_RUNS=1
  ROUNDS=1
fi
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rounds needs a positive count" >&2; exit 2; }

# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
need_tools nginx
build_binaries
# Gateway builds measured: "BINARY|LABEL" (labels as wide as "gateway").
GATEWAYS=("$GATEWAY|gateway")
if [[ $PGO == 1 ]]; then
  PGO_GATEWAY="$ROOT/target/pgo/use/$(rustc -vV | sed -n 's/^host: //p')/release/naftiko-gateway"
  if [[ $BUILD == 1 ]]; then
    log "building the PGO gateway (scripts/build-pgo.sh; several minutes)"
    no_install=()
    [[ $INSTALL == 1 ]] || no_install=(--no-install)
    "$ROOT/scripts/build-pgo.sh" "${no_install[@]+"${no_install[@]}"}" >/dev/null \
      || die "scripts/build-pgo.sh failed"
  fi
  [[ -x $PGO_GATEWAY ]] || die "$PGO_GATEWAY missing (run scripts/build-pgo.sh or drop --no-build)"
  GATEWAYS+=("$PGO_GATEWAY|gw+pgo ")
fi
DEFAULT_GATEWAY=$GATEWAY
make_seed_copy
write_mcp_args

# ----------------------------------------------------------------------------------------
# rows

RESULTS="$TMP/results.tsv" # label kind group rps p50 p99 errors hwm_kb cpu_us stub_us note anon_kb user_us switches round steal_pct
: >"$RESULTS"
ROW=0

# Ticks the hypervisor took from the load generator's and the servers' cores so far (steal
# time, /proc/stat): time stolen while a row runs slows it for reasons outside the programs
# measured.
steal_ticks() { awk -v a="cpu$LOADGEN_CPU" -v b="cpu$SERVER_CPU" '$1 == a || $1 == b { s += $9 } END { print s + 0 }' /proc/stat; }

# measure LABEL KIND GROUP URL SERVER-PID [VAR=VALUE...] — wrk with the check script.
measure() {
  local label=$1 kind=$2 group=$3 url=$4 pid=$5; shift 5
  ROW=$((ROW + 1))
  local base=(env "$@" wrk "-t$THREADS" "-c$CONNS" --timeout 5s -s "$LUA")
  if [[ $WARMUP != 0 ]]; then
    start "wrk-$ROW-warm" "$LOADGEN_CPU" "${base[@]}" "-d${WARMUP}s" "$url"
    wait "$BG_PID" || true
  fi
  local t0 s0 t1 s1 u0 u1 w0 w1 st0 st1
  st0=$(steal_ticks)
  w0=$(switches "$pid")
  t0=$(ticks "$pid")
  u0=$(user_ticks "$pid")
  s0=$(ticks "$STUB_PID")
  start "wrk-$ROW" "$LOADGEN_CPU" "${base[@]}" "-d${DURATION}s" --latency "$url"
  local rc=0
  wait "$BG_PID" || rc=$?
  if ! kill -0 "$pid" 2>/dev/null; then
    FAILURES+=("$label: the server process died")
    printf '%s\t%s\t%s\t-\t-\t-\tdied\t-\t-\t-\tserver died\t-\n' "$label" "$kind" "$group" >>"$RESULTS"
    return
  fi
  t1=$(ticks "$pid")
  u1=$(user_ticks "$pid")
  s1=$(ticks "$STUB_PID")
  w1=$(switches "$pid")
  st1=$(steal_ticks)
  local hwm anon
  hwm=$(status_kb "$pid" VmHWM)
  anon=$(status_kb "$pid" RssAnon)
  local line
  line=$(grep '^RESULT ' "$TMP/wrk-$ROW.out" || true)
  if [[ $rc != 0 || -z $line ]]; then
    FAILURES+=("$label: wrk failed (exit $rc): $(head -c 300 "$TMP/wrk-$ROW.err")")
    printf '%s\t%s\t%s\t-\t-\t-\twrk failed\t%s\t-\t-\t\t-\n' "$label" "$kind" "$group" "$hwm" >>"$RESULTS"
    return
  fi
  # RESULT requests=N duration_us=N bad=N connect=N read=N write=N status=N timeout=N p50_us=N p99_us=N mean_us=N
  echo "$line" | awk -v label="$label" -v kind="$kind" -v group="$group" -v hwm="$hwm" -v anon="$anon" \
    -v dt="$((t1 - t0))" -v du="$((u1 - u0))" -v ds="$((s1 - s0))" -v tck="$CLK_TCK" -v round="$ROUND" \
    -v dst="$((st1 - st0))" \
    -v dw="$(awk -v a="$w0" -v b="$w1" 'BEGIN { split(a, x, " "); split(b, y, " ")
      print y[1] + y[2] - x[1] - x[2] }')" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      n = v["requests"]; secs = v["duration_us"] / 1e6
      errors = v["bad"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
      cpu = n > 0 ? dt * 1e6 / tck / n : 0
      stub = n > 0 ? ds * 1e6 / tck / n : 0
      usr = n > 0 ? du * 1e6 / tck / n : 0
      sw = n > 0 ? dw / n : 0
      # Of both cores over the row: 100 would be the whole time of one core.
      steal = secs > 0 ? dst * 100 / tck / secs : 0
      printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\t%.1f\t%.1f\t%s\t%d\t%.1f\t%.2f\t%d\t%.1f\n", label, kind, group,
        n / secs, v["p50_us"] / 1000, v["p99_us"] / 1000, errors, hwm, cpu, stub, n " requests", anon, usr, sw, round,
        steal
    }' >>"$RESULTS"
  local errs
  errs=$(tail -1 "$RESULTS" | cut -f7)
  if [[ $errs != 0 ]]; then
    FAILURES+=("$label: $errs bad answers or socket errors: $(head -c 300 "$TMP/wrk-$ROW.err")")
  fi
  local reqs
  reqs=$(tail -1 "$RESULTS" | cut -f11)
  [[ $reqs != "0 requests" ]] || FAILURES+=("$label: no request completed")
  log "  $(tail -1 "$RESULTS" | cut -f1,4,5,6,7 | tr '\t' ' ')"
}

skip_row() { # LABEL KIND GROUP WHY
  printf '%s\t%s\t%s\t-\t-\t-\tskipped\t-\t-\t-\t%s\t-\n' "$1" "$2" "$3" "$4" >>"$RESULTS"
}

GET_CHECK=(BENCH_STATUS=200 "BENCH_CONTAINS=$GET_ID")
POST_CHECK=(BENCH_METHOD=POST "BENCH_BODY_FILE=$BENCH/create-identity.json" BENCH_STATUS=201
  "BENCH_CONTAINS=$CREATED_ID")
JSON_CT='Content-Type: application/json'

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "rows: ${DURATION}s each (warm-up ${WARMUP}s), wrk -t$THREADS -c$CONNS on CPU $LOADGEN_CPU, servers on CPU $SERVER_CPU; load average $LOAD_BEFORE"

# One row each: a fresh stub (and server) per row, so peak RSS and CPU belong to that row
# alone and no state is carried over.
row_direct() { # GET|POST
  start_stub "direct-$1"
  if [[ $1 == GET ]]; then
    measure "direct   GET  /admin/identities/{id}" get direct \
      "http://127.0.0.1:$STUB_PORT/admin/identities/$GET_ID" "$STUB_PID" \
      "${GET_CHECK[@]}" "BENCH_HEADERS=Authorization: $AUTH"
  else
    measure "direct   POST /admin/identities" post direct \
      "http://127.0.0.1:$STUB_PORT/admin/identities" "$STUB_PID" \
      "${POST_CHECK[@]}" "BENCH_HEADERS=Authorization: $AUTH|$JSON_CT"
  fi
  stop_pid "$STUB_PID"
}

row_nginx() { # GET|POST
  start_stub "nginx-$1"
  start_nginx "$1"
  if [[ $1 == GET ]]; then
    measure "nginx    GET  /admin/identities/{id}" get nginx \
      "http://127.0.0.1:$NGINX_PORT/admin/identities/$GET_ID" "$NGINX_PID" "${GET_CHECK[@]}"
  else
    measure "nginx    POST /admin/identities" post nginx \
      "http://127.0.0.1:$NGINX_PORT/admin/identities" "$NGINX_PID" \
      "${POST_CHECK[@]}" "BENCH_HEADERS=$JSON_CT"
  fi
  stop_pid "$NGINX_PID"
  stop_pid "$STUB_PID"
}

row_gateway() { # rest-get|rest-post|mcp-get|mcp-create: the binary $GATEWAY, labelled $GW_NAME
  local row=$1 label kind args tool needle
  start_stub "gw-$row"
  start_gateway "$row" "$SEED_COPY"
  gateway_ready "$row" >/dev/null
  case $row in
    rest-get)
      measure "$GW_NAME  REST GET  /v1/admin/identities/{id}" get gateway \
        "http://127.0.0.1:$REST_PORT/v1/admin/identities/$GET_ID" "$GW_PID" "${GET_CHECK[@]}" ;;
    rest-post)
      measure "$GW_NAME  REST POST /v1/admin/identities" post gateway \
        "http://127.0.0.1:$REST_PORT/v1/admin/identities" "$GW_PID" \
        "${POST_CHECK[@]}" "BENCH_HEADERS=$JSON_CT" ;;
    mcp-get | mcp-create)
      label="$GW_NAME  MCP  tools/call get-identity"
      kind=get args=$GET_ARGS tool=get-identity needle=$GET_ID
      if [[ $row == mcp-create ]]; then
        label="$GW_NAME  MCP  tools/call create-identity"
        kind=post args=$CREATE_ARGS tool=create-identity needle=$CREATED_ID
      fi
      if mcp_init "$row"; then
        measure "$label" "$kind" gateway "http://127.0.0.1:$MCP_PORT$MCP_PATH" "$GW_PID" \
          "BENCH_MCP_TOOL=$tool" "BENCH_MCP_ARGS_FILE=$args" "BENCH_HEADERS=$(mcp_headers)" \
          BENCH_STATUS=200 "BENCH_CONTAINS=\"isError\":false|$needle"
      else
        log "  MCP skipped: $MCP_WHY"
        skip_row "$label" "$kind" gateway "MCP skipped: $MCP_WHY"
      fi ;;
  esac
  stop_pid "$GW_PID"
  stop_pid "$STUB_PID"
}

# One method's rows in this round's order: "direct", "nginx", then "BINARY|LABEL|ROW" for
# each gateway build's REST and MCP rows. Even rounds run them in reverse (an ABBA
# design): a machine whose speed drifts within a round then favours neither the rows
# that run first nor those that run last, once the rounds' ratios are taken together.
round_rows() { # GET|POST
  local rows=(direct nginx) gw i
  for gw in "${GATEWAYS[@]}"; do
    if [[ $1 == GET ]]; then rows+=("$gw|rest-get" "$gw|mcp-get"); else rows+=("$gw|rest-post" "$gw|mcp-create"); fi
  done
  if ((ROUND % 2 == 0)); then
    for ((i = ${#rows[@]} - 1; i >= 0; i--)); do echo "${rows[i]}"; done
  else
    printf '%s\n' "${rows[@]}"
  fi
}

# The rows compared with each other run back to back (a shared machine's load drifts over
# minutes): per method, direct, nginx, then each gateway build's REST and MCP rows.
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  ((ROUNDS == 1)) || log "round $ROUND of $ROUNDS$( ((ROUND % 2 == 0)) && echo ' (rows in reverse order)')"
  for kind in GET POST; do
    mapfile -t ROWS < <(round_rows "$kind")
    for entry in "${ROWS[@]}"; do
      case $entry in
        direct) row_direct "$kind" ;;
        nginx) row_nginx "$kind" ;;
        *)
          GATEWAY=${entry%%|*} GW_NAME=${entry#*|}
          GW_NAME=${GW_NAME%|*}
          row_gateway "${entry##*|}" ;;
      esac
    done
    GATEWAY=$DEFAULT_GATEWAY
  done
done

# ----------------------------------------------------------------------------------------
# cold start (fork to first correct answer through the stub) and RSS with the seed alone

start_stub cold
COLD_MS=() SEED_RSS="" SEED_ANON=""
for ((i = 1; i <= COLD_RUNS; i++)); do
  t0=$(date +%s%N)
  start_gateway "cold-$i" "$SEED_COPY"
  ready=$(gateway_ready "cold-$i" | sed -n 's/^ready_ns=//p')
  [[ -n $ready ]] || die "gateway not answering: $(tail -5 "$TMP/gateway-cold-$i.err")"
  COLD_MS+=("$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')")
  if [[ -z $SEED_RSS ]]; then
    SEED_RSS=$(status_kb "$GW_PID" VmRSS)
    SEED_ANON=$(status_kb "$GW_PID" RssAnon)
  fi
  stop_pid "$GW_PID"
done
COLD_SORTED=$(printf '%s\n' "${COLD_MS[@]}" | sort -n)
COLD_MEDIAN=$(echo "$COLD_SORTED" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
COLD_MIN=$(echo "$COLD_SORTED" | head -1)
COLD_MAX=$(echo "$COLD_SORTED" | tail -1)

# RSS with the corpus + seed loaded: `serve` on a directory copy. Every `port:` is moved to
# a free port (consistently, so files that collided still collide); files with errors are
# parsed, reported and rejected, the rest served.
CORPUS_SRC="$ROOT/tests/corpus/public"
[[ -d $CORPUS_SRC ]] || CORPUS_SRC="$ROOT/../shared/corpus/public"
CORPUS_LINE="corpus: not found (tests/corpus/public, ../shared/corpus/public)"
if [[ -d $CORPUS_SRC ]]; then
  CDIR="$TMP/corpus"
  mkdir -p "$CDIR"
  cp "$CORPUS_SRC"/*.y*ml "$CDIR/"
  cp "$SEED" "$CDIR/00-ory-identities.yml" # first: wins port collisions
  NFILES=$(find "$CDIR" -maxdepth 1 -name '*.y*ml' | wc -l)
  mapfile -t OLD_PORTS < <(grep -ohE '^[[:space:]-]*port:[[:space:]]*"?[0-9]+' "$CDIR"/*.y*ml \
    | grep -oE '[0-9]+$' | sort -un)
  mapfile -t NEW_PORTS < <("$STUB" free-port "${#OLD_PORTS[@]}")
  SED_ARGS=()
  for ((i = 0; i < ${#OLD_PORTS[@]}; i++)); do
    SED_ARGS+=(-e "s/^\([[:space:]-]*port:[[:space:]]*\"\{0,1\}\)${OLD_PORTS[i]}\b/\1${NEW_PORTS[i]}/")
    [[ ${OLD_PORTS[i]} == 8080 ]] && CORPUS_REST_PORT=${NEW_PORTS[i]}
  done
  sed -i "${SED_ARGS[@]}" "$CDIR"/*.y*ml
  ADMIN_PORT=$("$STUB" free-port)
  SAVED_REST=$REST_PORT
  REST_PORT=${CORPUS_REST_PORT:?}
  # Most corpus files bind API keys from the environment and are refused without them:
  # a first start names the missing variables, the measured one has them (placeholders),
  # so that memory is measured for every file that can be served.
  start_gateway corpus-binds "$CDIR" --admin "127.0.0.1:$ADMIN_PORT"
  gateway_ready corpus-binds >/dev/null
  mapfile -t MISSING < <(curl -sS "http://127.0.0.1:$ADMIN_PORT/status" \
    | grep -oE "needs environment variable '[A-Za-z_][A-Za-z0-9_]*'" | cut -d"'" -f2 | sort -u)
  stop_pid "$GW_PID"
  for var in "${MISSING[@]}"; do GATEWAY_ENV+=("$var=bench-placeholder"); done
  start_gateway corpus "$CDIR" --admin "127.0.0.1:$ADMIN_PORT"
  gateway_ready corpus >/dev/null
  GATEWAY_ENV=()
  REST_PORT=$SAVED_REST
  sleep 0.2
  CORPUS_RSS=$(status_kb "$GW_PID" VmRSS)
  CORPUS_HWM=$(status_kb "$GW_PID" VmHWM)
  CORPUS_ANON=$(status_kb "$GW_PID" RssAnon)
  STATUS_JSON=$(curl -sS "http://127.0.0.1:$ADMIN_PORT/status" || echo '{}')
  if command -v jq >/dev/null; then
    COUNTS=$(echo "$STATUS_JSON" | jq -r '[.files[]?.status] | group_by(.) | map("\(length) \(.[0])") | join(", ")')
  else
    COUNTS="(install jq for per-status counts)"
  fi
  CORPUS_LINE=$(printf 'RSS with %d files (%s corpus + seed): %.1f MB (peak %.1f MB, anon %.1f MB); files: %s (%d placeholder environment variables)' \
    "$NFILES" "$((NFILES - 1))" "$(awk -v k="$CORPUS_RSS" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$CORPUS_HWM" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$CORPUS_ANON" 'BEGIN{print k/1024}')" "$COUNTS" "${#MISSING[@]}")
  stop_pid "$GW_PID"
fi
stop_pid "$STUB_PID"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------------------------------------
# report

MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "naftiko-gateway benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$([[ $SMOKE == 1 ]] && echo ' — SMOKE (1 s rows: not a measurement)')"
echo "machine: $NPROC x $MODEL; load average before $LOAD_BEFORE, after $LOAD_AFTER"
echo "wrk -t$THREADS -c$CONNS -d${DURATION}s (warm-up ${WARMUP}s) on CPU $LOADGEN_CPU; stub + server under test on CPU $SERVER_CPU$( ((ROUNDS > 1)) && echo "; median of $ROUNDS interleaved rounds per row")$( [[ -n ${BENCH_STUB_SCHED:-} ]] && echo "; stub under chrt $BENCH_STUB_SCHED (diagnostic)")"
[[ $PGO == 0 ]] || echo "gateway: cargo build --release; gw+pgo: scripts/build-pgo.sh (the same code, profile-guided)"
echo

# One line per row: the median of its rounds (peaks: the highest; errors: the sum). A row
# that failed in any round is reported as failed.
awk -F'\t' -v OFS='\t' '
  function median(list,    v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  !($1 in seen) { seen[$1] = ++rows; order[rows] = $1; kind[$1] = $2; group[$1] = $3 }
  failed[$1] || $4 == "-" { if (!failed[$1]) line[$1] = $0; failed[$1] = 1; next }
  { rps[$1] = rps[$1] " " $4; p50[$1] = p50[$1] " " $5; p99[$1] = p99[$1] " " $6
    err[$1] += $7; if ($8 > hwm[$1]) hwm[$1] = $8; if ($12 > anon[$1]) anon[$1] = $12
    cpu[$1] = cpu[$1] " " $9; stub[$1] = stub[$1] " " $10; usr[$1] = usr[$1] " " $13; sw[$1] = sw[$1] " " $14
    if ($16 > steal[$1]) steal[$1] = $16
    split($11, r, " "); reqs[$1] += r[1] }
  END {
    for (i = 1; i <= rows; i++) {
      l = order[i]
      if (failed[l]) { print line[l]; continue }
      print l, kind[l], group[l], median(rps[l]), median(p50[l]), median(p99[l]), err[l], hwm[l],
        median(cpu[l]), median(stub[l]), reqs[l] " requests", anon[l], median(usr[l]), median(sw[l]), steal[l] + 0
    }
  }' "$RESULTS" >"$RESULTS.rows"

awk -F'\t' '
  function ratio(a, b) { return (a == "-" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
  { label[NR] = $1; kind[NR] = $2; group[NR] = $3; rps[NR] = $4; p50[NR] = $5; p99[NR] = $6
    err[NR] = $7; hwm[NR] = $8; cpu[NR] = $9; stub[NR] = $10; note[NR] = $11; anon[NR] = $12
    usr[NR] = $13; sw[NR] = $14; steal[NR] = $15
    if ($3 == "direct" && $4 != "-") { drps[$2] = $4 }
    if ($3 == "nginx" && $4 != "-") { nrps[$2] = $4; ncpu[$2] = $9 }
    # MCP rows are also compared with the REST row of the same build and method.
    split($1, w, " "); build[NR] = w[1]; mcp[NR] = (w[2] == "MCP")
    if ($3 == "gateway" && w[2] == "REST" && $4 != "-") { rrps[w[1], $2] = $4 } }
  END {
    printf "%-44s %9s %8s %8s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "row", "req/s", "p50 ms", "p99 ms",
      "errors", "RSS MB", "anon MB", "CPU us", "user us", "stub us", "sw/req", "rps/dir", "rps/ngx", "cpu/ngx",
      "rps/rest", "steal %"
    for (i = 1; i <= NR; i++) {
      if (rps[i] == "-") {
        printf "%-44s %9s %8s %8s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n", label[i], "-", "-", "-",
          err[i], "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", note[i]
        continue
      }
      k = kind[i]
      s = group[i] == "direct" ? "-" : sprintf("%.1f", stub[i])
      printf "%-44s %9d %8.2f %8.2f %7d %8.1f %8.1f %8.1f %8.1f %8s %8.2f %8s %8s %8s %8s %8.1f\n", label[i], rps[i],
        p50[i], p99[i], err[i], hwm[i] / 1024, anon[i] / 1024, cpu[i], usr[i], s, sw[i], ratio(rps[i], drps[k]),
        ratio(rps[i], nrps[k]), ratio(cpu[i], ncpu[k]), mcp[i] ? ratio(rps[i], rrps[build[i], k]) : "-", steal[i]
    }
  }' "$RESULTS.rows"
if ((ROUNDS > 1)); then
  # Ratios taken within each round (the rows compared run back to back there, so under
  # one load), then the median over the rounds, with the lowest and highest in brackets.
  echo
  echo "per-round ratios, median of $ROUNDS rounds (lowest-highest); a round counts when neither row of"
  echo "the pair lost more than ${STEAL_MAX}% to steal (n = rounds counted):"
  awk -F'\t' -v max="$STEAL_MAX" '
    function median(list,    v, n, i, j, t) {
      n = split(list, v, " ")
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]; v[j + 1] = t }
      return sprintf("%.2f (%.2f-%.2f) n=%d", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n], n)
    }
    # First pass: the rows others are compared with (in even rounds they run after them).
    FNR == NR {
      if ($4 == "-") next
      split($1, w, " ")
      if ($3 == "nginx") { nr[$2, $15] = $4; nc[$2, $15] = $9; ns[$2, $15] = $16 }
      else if ($3 == "gateway" && w[2] == "REST") { rr[w[1], $2, $15] = $4; rs[w[1], $2, $15] = $16 }
      next
    }
    $4 == "-" { next }
    $3 == "gateway" {
      split($1, w, " ")
      if (!($1 in seen)) { seen[$1] = 1; order[++rows] = $1 }
      if (($2, $15) in nr && $16 <= max && ns[$2, $15] <= max) {
        rn[$1] = rn[$1] " " $4 / nr[$2, $15]; cn[$1] = cn[$1] " " $9 / nc[$2, $15]
      }
      if (w[2] != "REST" && (w[1], $2, $15) in rr && $16 <= max && rs[w[1], $2, $15] <= max) {
        rm[$1] = rm[$1] " " $4 / rr[w[1], $2, $15]
      }
    }
    END {
      for (i = 1; i <= rows; i++) {
        l = order[i]
        printf "%-44s rps/ngx %-24s cpu/ngx %-24s rps/rest %s\n", l, rn[l] == "" ? "-" : median(rn[l]),
          cn[l] == "" ? "-" : median(cn[l]), rm[l] == "" ? "-" : median(rm[l])
      }
    }' "$RESULTS" "$RESULTS"
fi
echo
echo "RSS MB = peak RSS (VmHWM) of the server under test (stub for direct rows, nginx, gateway),"
echo "  its executable's mapped pages included; anon MB = its private memory (RssAnon) at the end;"
echo "CPU us = its utime+stime per request (user us: utime alone); stub us = the stub's; ratios per method (GET/POST);"
echo "sw/req = context switches of its main thread per request (voluntary + preempted: with the stub on the same core);"
echo "rps/rest = an MCP row against the same build's REST row (tools/call get vs REST GET, create vs POST);"
echo "steal % = time the hypervisor took from the two cores during the row (/proc/stat; the highest of its"
echo "  rounds): a row with steal ran slower for reasons outside the programs measured."
echo "gateway cold start to first answer: median ${COLD_MEDIAN} ms (min ${COLD_MIN}, max ${COLD_MAX}, ${COLD_RUNS} runs); RSS with the seed alone: $(awk -v k="$SEED_RSS" 'BEGIN{printf "%.1f", k/1024}') MB (anon $(awk -v k="$SEED_ANON" 'BEGIN{printf "%.1f", k/1024}') MB)"
echo "$CORPUS_LINE"

if ((${#FAILURES[@]} > 0)); then
  echo
  echo "FAILURES:"
  printf '  %s\n' "${FAILURES[@]}"
  exit 1
fi
