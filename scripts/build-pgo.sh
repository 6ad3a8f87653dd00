#!/usr/bin/env bash
# scripts/build-pgo.sh — the gateway built with profile-guided optimisation (issue #8).
#
# 1. An instrumented release build (`-Cprofile-generate`). It must be built like the final
#    one: trained without LTO (a quicker build), the profile saved 1.5% of the instructions
#    per request instead of 20%, its counters no longer matching the code LTO sees.
# 2. Training: `scripts/bench.sh --smoke` against it, the workload the gateway exists for:
#    REST GET and POST and MCP tools/call get and create through the stub upstream, cold
#    starts, and loading the 40 corpus files.
# 3. The counts merged with the toolchain's own `llvm-profdata` (rustup's `llvm-tools`
#    component, added when missing: the profile format follows rustc's LLVM version).
# 4. The release build (fat LTO, as `cargo build --release`) with `-Cprofile-use`.
#
# The compiler then lays out hot code together and branches the way they are taken;
# `docs/benchmarks.md` (tenth round) has what it saves. Everything lives under
# target/pgo/ (the binary: target/pgo/use/HOST/release/naftiko-gateway,
# HOST as `rustc -vV` names it); the last line printed is the optimised binary's path.
#
# Usage: scripts/build-pgo.sh [--no-install]
#   --no-install  fail instead of installing llvm-tools (rustup) or wrk/nginx (apt-get)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INSTALL=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-pgo: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

log() { printf 'build-pgo: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

OUT="$ROOT/target/pgo"
PROFILES="$OUT/profiles"
MERGED="$OUT/merged.profdata"
mkdir -p "$OUT"

HOST=$(rustc -vV | sed -n 's/^host: //p')
PROFDATA="$(rustc --print sysroot)/lib/rustlib/$HOST/bin/llvm-profdata"
if [[ ! -x $PROFDATA ]]; then
  [[ $INSTALL == 1 ]] || die "missing $PROFDATA; run 'rustup component add llvm-tools' or drop --no-install"
  command -v rustup >/dev/null || die "missing $PROFDATA and no rustup to add llvm-tools"
  log "adding rustup component llvm-tools (llvm-profdata)"
  rustup component add llvm-tools >&2 || die "rustup component add llvm-tools failed"
  [[ -x $PROFDATA ]] || die "llvm-tools added but $PROFDATA is still missing"
fi

log "1/4 instrumented build (target/pgo/gen)"
rm -rf "$PROFILES"
# The stub is the training's upstream: an ordinary release build.
(cd "$ROOT" && cargo build --release --quiet -p stub-upstream) || die "cargo build -p stub-upstream failed"
# `--target`, even the host's: then RUSTFLAGS reach only the gateway and its libraries, not
# build scripts and proc macros (which would write profiles of their own while compiling).
(cd "$ROOT" && RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$PROFILES" \
  cargo build --release --quiet --target "$HOST" --target-dir "$OUT/gen" -p naftiko-gateway) \
  || die "instrumented build failed"

log "2/4 training (scripts/bench.sh --smoke against the instrumented gateway)"
no_install=()
[[ $INSTALL == 1 ]] || no_install=(--no-install)
BENCH_GATEWAY="$OUT/gen/$HOST/release/naftiko-gateway" \
  "$ROOT/scripts/bench.sh" --smoke --no-build "${no_install[@]+"${no_install[@]}"}" \
  >"$OUT/training.log" 2>&1 || die "training run failed: $(tail -n 20 "$OUT/training.log")"
compgen -G "$PROFILES/*.profraw" >/dev/null || die "training wrote no profile to $PROFILES"

log "3/4 merging the profiles"
"$PROFDATA" merge -o "$MERGED" "$PROFILES" || die "llvm-profdata merge failed"

log "4/4 optimised release build (target/pgo/use)"
(cd "$ROOT" && RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$MERGED" \
  cargo build --release --quiet --target "$HOST" --target-dir "$OUT/use" -p naftiko-gateway) \
  || die "optimised build failed"
echo "$OUT/use/$HOST/release/naftiko-gateway"
