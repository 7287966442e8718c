#!/usr/bin/env bash
# README's first quick-start command: installs what the dashboard needs, then serves it with the
# built-in synthetic dataset on http://127.0.0.1:5000 (override: --urls http://0.0.0.0:8080).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/prereqs.sh --runtime
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build MedZoo.Web -c Release --nologo -v quiet
echo "[start] MedZoo dashboard starting; open the URL printed below (Ctrl+C stops it)"
exec dotnet MedZoo.Web/bin/Release/net10.0/medzoo.dll serve "$@"
