#!/usr/bin/env bash
# Runs the whole test suite (README's second quick-start command; .ci/run runs exactly this).
# Installs what is missing first (scripts/prereqs.sh), then runs every test once and ends with the
# plain line "N passed, N failed, N skipped". Extra arguments go to `dotnet test`
# (e.g. --filter "FullyQualifiedName~Nifti").
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/prereqs.sh || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
RESULTS="$ROOT/TestResults"
rm -rf "$RESULTS"
dotnet test MedZoo.sln -c Release --nologo \
  --logger "trx;LogFileName=medzoo.trx" --logger "console;verbosity=normal" \
  --results-directory "$RESULTS" --blame-hang-timeout 10m "$@"
rc=$?

TRX=$(find "$RESULTS" -name '*.trx' 2>/dev/null | head -1)
if [ -z "$TRX" ]; then
  echo "0 passed, 1 failed"
  echo "(no test results: the build or the test host failed, see above)" >&2
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$TRX" | head -1)
num() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
passed=$(num passed); failed=$(num failed); skipped=$(num notExecuted)
errors=$(num error); timeouts=$(num timeout); aborted=$(num aborted)
failed=$((failed + errors + timeouts + aborted))
[ "$rc" != 0 ] && [ "$failed" = 0 ] && failed=1   # a crashed host counts as a failure
if [ "$failed" != 0 ]; then
  # Repeat the failures right above the summary, so a log cut to its last lines still names them.
  echo "Failed tests (details in $TRX):"
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$TRX" <<'PY' || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") in ("Passed", "NotExecuted"):
        continue
    msg = r.findtext(".//t:ErrorInfo/t:Message", default="", namespaces=ns).strip()
    first = msg.splitlines()[0][:300] if msg else ""
    print(f"  {r.get('outcome')}: {r.get('testName')}\n      {first}")
PY
  else
    grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$TRX" \
      | grep -o 'testName="[^"]*"' | sed 's/^testName=/  /'
  fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
