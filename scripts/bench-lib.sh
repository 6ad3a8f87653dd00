# shellcheck shell=bash disable=SC2034  # variables here are read by the sourcing script
# scripts/bench-lib.sh — shared by scripts/bench.sh and scripts/bench-profile.sh (sourced).
# The caller sets ROOT, BUILD, INSTALL, KEEP, LOADGEN_CPU, SERVER_CPU before sourcing.
# Everything started with `start` is stopped by the EXIT trap installed here.

BENCH="$ROOT/bench"
LUA="$BENCH/wrk-check.lua"
SEED="$ROOT/capabilities/ory-identities.yml"
GATEWAY="${BENCH_GATEWAY:-$ROOT/target/release/naftiko-gateway}"
STUB="$ROOT/target/release/stub-upstream"
GATEWAY_WRAPPER=()                                # e.g. (valgrind --tool=callgrind) for profiling

AUTH='Bearer x'                                   # ORY_API_KEY of the gateway, nginx's header
GET_ID=4c2b1a7e-0d9f-4e6a-b3c8-5f1e2d3c4b5a       # asked for; the stub echoes it in the answer
CREATED_ID=9f425a8d-7efc-4768-8f23-7647a74fdf13   # the id in bench/identity.json (POST answers)
MCP_PROTO=2025-11-25
MCP_PATH=${BENCH_MCP_PATH:-/mcp}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ----------------------------------------------------------------------------------------
# processes: everything started goes in PIDS; the EXIT trap stops them all

TMP=$(mktemp -d "${TMPDIR:-/tmp}/naftiko-bench.XXXXXX")
PIDS=()
FAILURES=()

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'log "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 143' TERM

PIN=1
pin() { # CPU CMD...: run pinned (taskset execs, so $! is the command's own pid)
  local cpu=$1; shift
  if [[ $PIN == 1 ]]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}

# start NAME CPU CMD... — runs in the background, output in $TMP/NAME.{out,err}; sets BG_PID.
start() {
  local name=$1 cpu=$2; shift 2
  (pin "$cpu" "$@") >"$TMP/$name.out" 2>"$TMP/$name.err" &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

# ticks PID: utime+stime (clock ticks) of the whole process; fields after "(comm) ".
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# user_ticks PID: utime alone (user space; the rest of `ticks` is the kernel's work).
user_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# switches PID: context switches so far of the process's main thread, "voluntary preempted".
switches() {
  awk '$1 == "voluntary_ctxt_switches:" { v = $2 } $1 == "nonvoluntary_ctxt_switches:" { n = $2 }
    END { print v + 0, n + 0 }' "/proc/$1/status"
}
CLK_TCK=$(getconf CLK_TCK)

# probe URL ARGS...: waits until URL answers as expected; prints ready_ns.
probe() { (pin "$LOADGEN_CPU" "$STUB" wait "$@"); }

# ----------------------------------------------------------------------------------------
# tools

install_pkg() { # PACKAGE...
  [[ $INSTALL == 1 ]] || die "missing $*; install it or drop --no-install"
  command -v apt-get >/dev/null || die "missing $* and no apt-get to install it"
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  log "installing $* (apt-get)"
  # Debian packages start their service on install unless policy-rc.d says no; we
  # run nginx ourselves, in the foreground, so keep the packaged service from starting.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && added=1
  fi
  local ok=1
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >"$TMP/apt.log" 2>&1 || ok=0
  [[ $added == 1 ]] && $sudo rm -f "$policy"
  [[ $ok == 1 ]] || { cat "$TMP/apt.log" >&2; die "apt-get install $* failed"; }
}

# need_tools [nginx]: wrk, taskset, curl (and nginx), installed from Debian when missing.
need_tools() {
command -v wrk >/dev/null || install_pkg wrk
command -v taskset >/dev/null || die "taskset (util-linux) is missing"
command -v curl >/dev/null || install_pkg curl
[[ ${1:-} == nginx ]] || return 0
NGINX=$(command -v nginx || true)
if [[ -z $NGINX && -x /usr/sbin/nginx ]]; then NGINX=/usr/sbin/nginx; fi
if [[ -z $NGINX ]]; then
  install_pkg nginx-light || true
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  [[ -x $NGINX ]] || { install_pkg nginx; NGINX=$(command -v nginx || echo /usr/sbin/nginx); }
fi
[[ -x $NGINX ]] || die "no nginx"
}

NPROC=$(nproc)
if ((NPROC < 2)); then
  log "only $NPROC CPU: not pinning (numbers will mix load generator and server)"
  PIN=0
fi

build_binaries() {
  if [[ $BUILD == 1 ]]; then
    log "building release binaries (naftiko-gateway, stub-upstream)"
    (cd "$ROOT" && cargo build --release --quiet -p naftiko-gateway -p stub-upstream) \
      || die "cargo build --release failed"
  fi
  [[ -x $GATEWAY ]] || die "$GATEWAY missing (build it or drop --no-build)"
  [[ -x $STUB ]] || die "$STUB missing (build it or drop --no-build)"
}

# ----------------------------------------------------------------------------------------
# servers

STUB_PID="" STUB_PORT=""
start_stub() { # TAG
  # BENCH_STUB_SCHED=-b: the stub runs SCHED_BATCH, so its wake-ups never preempt the
  # proxy sharing its core (a diagnostic: what the rows cost without that artefact).
  local sched=()
  [[ -n ${BENCH_STUB_SCHED:-} ]] && sched=(chrt "$BENCH_STUB_SCHED" 0)
  start "stub-$1" "$SERVER_CPU" "${sched[@]}" "$STUB" serve --listen 127.0.0.1:0 --auth "$AUTH"
  STUB_PID=$BG_PID
  local i
  # Up to 20 s: a loaded shared machine has been seen to take more than 5.
  for ((i = 0; i < 2000; i++)); do
    # Only a whole line (ending in a newline) counts: a port read mid-write would be cut.
    if [[ -s $TMP/stub-$1.out && -z $(tail -c 1 "$TMP/stub-$1.out") ]]; then
      STUB_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]\{1,5\}\)$/\1/p' "$TMP/stub-$1.out")
      [[ -n $STUB_PORT ]] && break
    fi
    kill -0 "$STUB_PID" 2>/dev/null || die "stub exited: $(cat "$TMP/stub-$1.err")"
    sleep 0.01
  done
  [[ -n $STUB_PORT ]] || die "stub did not report its port within 20 s; it wrote: \
$(cat "$TMP/stub-$1.out" "$TMP/stub-$1.err" 2>/dev/null | tail -n 5)"
  probe "http://127.0.0.1:$STUB_PORT/admin/identities/$GET_ID" \
    --header "Authorization: $AUTH" --contains "$GET_ID" >/dev/null || die "stub not answering"
}

NGINX_PID="" NGINX_PORT=""
start_nginx() { # TAG
  NGINX_PORT=$("$STUB" free-port)
  local dir="$TMP/nginx-$1"
  mkdir -p "$dir"
  sed -e "s|@TMP@|$dir|g" -e "s|@LISTEN_PORT@|$NGINX_PORT|g" \
    -e "s|@UPSTREAM_PORT@|$STUB_PORT|g" -e "s|@AUTH@|$AUTH|g" \
    "$BENCH/nginx.conf.template" >"$dir/nginx.conf"
  start "nginx-$1" "$SERVER_CPU" "$NGINX" -p "$dir" -e "$dir/nginx-error.log" -c "$dir/nginx.conf"
  NGINX_PID=$BG_PID
  probe "http://127.0.0.1:$NGINX_PORT/admin/identities/$GET_ID" --contains "$GET_ID" \
    --timeout-ms 5000 >/dev/null \
    || die "nginx not answering: $(cat "$dir/nginx-error.log" "$TMP/nginx-$1.err" 2>/dev/null)"
}

# The seed with its ports (8080 REST, 9090 MCP) moved to free ones, so a busy shared
# machine's 8080 does not matter. Same capability otherwise.
# In a directory of its own: the gateway watches the file's directory, and $TMP is busy
# with logs (each write there would trigger a reload).
SEED_COPY="$TMP/seed/ory-identities.yml"
REST_PORT="" MCP_PORT=""
make_seed_copy() {
  mkdir -p "$TMP/seed"
  mapfile -t PORTS < <("$STUB" free-port 2)
  REST_PORT=${PORTS[0]:?} MCP_PORT=${PORTS[1]:?}
  sed -e "s/^\( *port: \)8080\$/\1$REST_PORT/" -e "s/^\( *port: \)9090\$/\1$MCP_PORT/" \
    "$SEED" >"$SEED_COPY"
  if ! grep -q "port: $REST_PORT\$" "$SEED_COPY" || ! grep -q "port: $MCP_PORT\$" "$SEED_COPY"; then
    die "could not move the seed's ports (expected 'port: 8080' and 'port: 9090')"
  fi
}

GW_PID=""
GATEWAY_ENV=() # more VAR=VALUE for the gateway
start_gateway() { # TAG CAPABILITY-PATH [EXTRA ARGS...]
  local tag=$1 path=$2; shift 2
  # Pinned to one core like nginx (worker_processes 1): one runtime thread.
  start "gateway-$tag" "$SERVER_CPU" env ORY_API_KEY="$AUTH" RUST_LOG=warn "${GATEWAY_ENV[@]}" \
    "${GATEWAY_WRAPPER[@]+"${GATEWAY_WRAPPER[@]}"}" "$GATEWAY" serve "$path" --threads 1 --upstream "kratos-identity=http://127.0.0.1:$STUB_PORT" "$@"
  GW_PID=$BG_PID
}
gateway_ready() { # TAG [TIMEOUT-MS] → prints ready_ns
  probe "http://127.0.0.1:$REST_PORT/v1/admin/identities/$GET_ID" --contains "$GET_ID" \
    --timeout-ms "${2:-30000}" \
    || die "gateway not answering: $(tail -5 "$TMP/gateway-$1.err")"
}

# MCP session: initialize + notifications/initialized with curl.
MCP_SESSION="" MCP_WHY=""
mcp_init() { # TAG — returns 1 (MCP_WHY set) when initialize fails
  local url="http://127.0.0.1:$MCP_PORT$MCP_PATH" code
  MCP_SESSION="" MCP_WHY=""
  code=$(curl -sS -o "$TMP/mcp-init-$1.body" -D "$TMP/mcp-init-$1.headers" -w '%{http_code}' \
    -X POST "$url" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "MCP-Protocol-Version: $MCP_PROTO" \
    --data "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$MCP_PROTO\",\"capabilities\":{},\"clientInfo\":{\"name\":\"naftiko-bench\",\"version\":\"1\"}}}" \
    2>"$TMP/mcp-init-$1.err") || code=000
  if [[ $code != 200 ]] || ! grep -q '"result"' "$TMP/mcp-init-$1.body"; then
    MCP_WHY="initialize answered HTTP $code: $(cat "$TMP/mcp-init-$1.body" "$TMP/mcp-init-$1.err" 2>/dev/null | head -c 200 | tr '\n' ' ')"
    return 1
  fi
  MCP_SESSION=$(awk 'tolower($1) == "mcp-session-id:" { print $2 }' "$TMP/mcp-init-$1.headers" | tr -d '\r')
  local session_header=()
  [[ -n $MCP_SESSION ]] && session_header=(-H "Mcp-Session-Id: $MCP_SESSION")
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$url" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "MCP-Protocol-Version: $MCP_PROTO" "${session_header[@]}" \
    --data '{"jsonrpc":"2.0","method":"notifications/initialized"}') || code=000
  [[ $code == 2* ]] || log "warning: notifications/initialized answered HTTP $code"
  return 0
}


# The MCP headers of every tools/call (session id when the server gave one).
mcp_headers() {
  local h="Accept: application/json, text/event-stream|MCP-Protocol-Version: $MCP_PROTO"
  [[ -n $MCP_SESSION ]] && h="$h|Mcp-Session-Id: $MCP_SESSION"
  echo "$h"
}

# Arguments of the MCP tools/call rows.
write_mcp_args() {
  GET_ARGS="$TMP/mcp-get-args.json"
  CREATE_ARGS="$TMP/mcp-create-args.json"
  printf '{"id":"%s"}' "$GET_ID" >"$GET_ARGS"
  printf '{"body":%s}' "$(sed 's/[[:space:]]*$//' "$BENCH/create-identity.json")" >"$CREATE_ARGS"
}
