#!/usr/bin/env bash
# Measures trust (issue 13's figures) and writes them, each with its conditions, to a markdown report:
#   fuzzing    every reader of outside input (NIfTI-1/2, Analyze, MetaImage, gzip, journals, checkpoints,
#              dataset.json, multipart uploads) with mutated inputs; a real decompression bomb
#   kill -9    the server training a run, and `medzoo train` writing its journal, killed at random moments
#              and checked after each restart
#   attack     parallel wrong-password clients against sign-in while a signed-in user polls /api/runs
#   load       one run trained unwatched, then watched by SignalR clients of the typed hub and headless
#              browsers on its run page: step time, epoch events per client, final epoch per browser, server memory
# Usage: scripts/reliability.sh [--quick] [--report FILE]   (default report: artifacts/reliability-report.md)
#   --quick   small sizes (1,000 inputs per fuzz kind, 5 + 3 kills, 50 attackers for 15 s, 20 viewers of a
#             3-epoch run: minutes) instead of the issue's (10,000 per kind, 20 server + 10 command-line kills,
#             200 attackers for 60 s, 50 viewers and 5 browsers of a run of 100 epochs of 200 steps: 20,000 steps)
# Sizes can also be set one by one: FUZZ_COUNT, KILL_SERVER, KILL_CLI, BOMB_MIB, ATTACK_CLIENTS, ATTACK_SECONDS,
# LOAD_CLIENTS, LOAD_BROWSERS, LOAD_EPOCHS, LOAD_STEPS (steps per epoch). Exits 1 when any figure
# misses its bound; the report says which. The short version runs in the test suite
# (MedZoo.Tests/Reliability, Web/Endpoints/AccessCrawlTests).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

REPORT="$ROOT/artifacts/reliability-report.md"
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --report) REPORT=$(realpath -m "$2"); shift ;;
    *) echo "unknown argument '$1' (expected --quick or --report FILE)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  FUZZ_COUNT=${FUZZ_COUNT:-1000}; KILL_SERVER=${KILL_SERVER:-5}; KILL_CLI=${KILL_CLI:-3}
  ATTACK_CLIENTS=${ATTACK_CLIENTS:-50}; ATTACK_SECONDS=${ATTACK_SECONDS:-15}
  LOAD_CLIENTS=${LOAD_CLIENTS:-20}; LOAD_BROWSERS=${LOAD_BROWSERS:-2}; LOAD_EPOCHS=${LOAD_EPOCHS:-3}; LOAD_STEPS=${LOAD_STEPS:-4}
else
  FUZZ_COUNT=${FUZZ_COUNT:-10000}; KILL_SERVER=${KILL_SERVER:-20}; KILL_CLI=${KILL_CLI:-10}
  ATTACK_CLIENTS=${ATTACK_CLIENTS:-200}; ATTACK_SECONDS=${ATTACK_SECONDS:-60}
  LOAD_CLIENTS=${LOAD_CLIENTS:-50}; LOAD_BROWSERS=${LOAD_BROWSERS:-5}; LOAD_EPOCHS=${LOAD_EPOCHS:-100}; LOAD_STEPS=${LOAD_STEPS:-200}
fi
BOMB_MIB=${BOMB_MIB:-1024}

scripts/prereqs.sh --runtime || exit 1
dotnet build MedZoo.sln -c Release --nologo -v q 2>&1 | tail -3
TOOL="$ROOT/tools/Reliability/bin/Release/net10.0/medzoo-reliability.dll"
MEDZOO="$ROOT/MedZoo.Web/bin/Release/net10.0/medzoo.dll"
[ -f "$TOOL" ] && [ -f "$MEDZOO" ] || { echo "the build did not produce $TOOL and $MEDZOO" >&2; exit 1; }

mkdir -p "$(dirname "$REPORT")"
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# MedZoo reliability report"
  echo
  echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "- CPU: ${CPU:-unknown} ($(nproc) cores); memory: $(free -g | awk '/Mem:/{print $2}') GiB; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Started: $(date -u '+%Y-%m-%d %H:%M') UTC; command: scripts/reliability.sh$( [ "$QUICK" = 1 ] && echo ' --quick' )"
  echo
} > "$REPORT"

status=0
run() {
  echo "== $*" >&2
  dotnet "$TOOL" "$@" --report "$REPORT" > /dev/null || status=1
}
run fuzz --kind all --count "$FUZZ_COUNT" --seed 1
run bomb --mib "$BOMB_MIB"
run killtrials --server "$KILL_SERVER" --cli "$KILL_CLI" --seed 1 --medzoo "$MEDZOO"
run attack --clients "$ATTACK_CLIENTS" --seconds "$ATTACK_SECONDS" --medzoo "$MEDZOO"
run load --clients "$LOAD_CLIENTS" --browsers "$LOAD_BROWSERS" --epochs "$LOAD_EPOCHS" --steps_per_epoch "$LOAD_STEPS" --medzoo "$MEDZOO"

echo "Report: $REPORT" >&2
[ "$status" = 0 ] && echo "Every figure within its bound." >&2 || echo "Some figures miss their bounds: see the report." >&2
exit "$status"
