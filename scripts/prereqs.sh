#!/usr/bin/env bash
# Makes a fresh Debian 12 machine ready to build, run and test MedZoo. Idempotent: every step
# checks first and does nothing when its result is already there.
#
#   scripts/prereqs.sh            runtime prerequisites + browser + test data (what tests need)
#   scripts/prereqs.sh --runtime  only what the dashboard needs (libstdc++ for TorchSharp)
#   scripts/prereqs.sh --bench    also Debian's python3-torch for benchmarks/
#
# On a distribution without apt-get it installs nothing: it checks and explains what is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/testdata"
MODE=${1:-all}
log() { printf '[prereqs] %s\n' "$*"; }
die() { printf '[prereqs] ERROR: %s\n' "$*" >&2; exit 1; }

have_apt() { command -v apt-get >/dev/null 2>&1 && [ -f /etc/debian_version ]; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

LIBSTDCXX=""
for c in /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
  [ -e "$c" ] && { LIBSTDCXX=$c; break; }
done
glibcxx_ok() { [ -n "$LIBSTDCXX" ] && grep -qa 'GLIBCXX_3\.4\.32' "$LIBSTDCXX"; }

apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { as_root apt-get update -qq; apt_updated=1; }; }
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]}"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. .NET SDK 10
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  die ".NET SDK 10 is required (https://dotnet.microsoft.com/download); 'dotnet --list-sdks' shows no 10.x SDK"
fi

# 2. libstdc++ with GLIBCXX_3.4.32 for TorchSharp 0.107's native library (DESIGN.md §4)
if glibcxx_ok; then
  log "libstdc++ has GLIBCXX_3.4.32"
elif have_apt && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  log "libstdc++ lacks GLIBCXX_3.4.32 (TorchSharp needs GCC 13+'s); installing libstdc++6 from Debian 13 via a private source list"
  T=$(mktemp -d); chmod 755 "$T"; mkdir -p "$T/lists/partial"
  awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources \
    | sed 's/^Suites:.*/Suites: trixie/' > "$T/trixie.sources"
  cat "$T/trixie.sources" /etc/apt/sources.list.d/debian.sources > "$T/both.sources"
  O=(-o "Dir::Etc::SourceList=$T/both.sources" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$T/lists")
  as_root apt-get "${O[@]}" update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -qq "${O[@]}" -o APT::Default-Release=bookworm \
    --no-install-recommends install -t trixie libstdc++6 >/dev/null
  rm -rf "$T"
  glibcxx_ok || die "libstdc++6 was installed from trixie but still lacks GLIBCXX_3.4.32"
  log "libstdc++ now has GLIBCXX_3.4.32"
else
  die "TorchSharp needs libstdc++ with GLIBCXX_3.4.32 (GCC 13 or newer; Ubuntu 24.04 and Debian 13 have it). ${LIBSTDCXX:-no libstdc++.so.6 found} lacks it; install a newer libstdc++6 package."
fi
# 2b. npm for the build: MedZoo.Web/NiiVue.targets fetches NiiVue (the review's 3D view) with `npm ci`.
#     Debian 12's npm (9.x, with its nodejs 18) is enough; an npm already on PATH (e.g. NodeSource's) is kept.
if command -v npm >/dev/null 2>&1; then
  log "npm $(npm --version 2>/dev/null) is installed"
elif have_apt; then
  apt_install npm
else
  log "WARNING: no npm: builds leave out the review's 3D view (NiiVue); install npm and rebuild"
fi
[ "$MODE" = "--runtime" ] && exit 0

# 3. Chromium for the browser tests; python3-nibabel/numpy/scipy as independent reference readers; python3-requests for the API example;
#    python3-torch and python3-onnx for the interop tests (MedicalZoo's classes load MedZoo's exports; onnx.checker)
if have_apt; then
  apt_install chromium python3-nibabel python3-numpy python3-scipy
  apt_install python3-requests   # examples/automation.py, run by AutomationExampleTests
  apt_install python3-torch python3-onnx
  [ "$MODE" = "--bench" ] && apt_install python3-torch python3-matplotlib python3-websocket   # websocket: benchmarks/cluster-faults.py's viewer
  # Real PostgreSQL and Redis for the cluster tests (scripts/cluster-servers.sh starts private instances)
  apt_install postgresql redis-server haproxy   # cluster tests and scripts/cluster.sh (haproxy: the load balancer in front of web nodes)
else
  command -v chromium >/dev/null || log "WARNING: no chromium: browser tests will be skipped (install Chromium at /usr/bin/chromium)"
fi
# benchmarks/ compare with PyTorch through Debian's /usr/bin/python3: say what is still missing, by package name.
if [ "$MODE" = "--bench" ]; then
  bench_missing=()
  for pair in torch:python3-torch numpy:python3-numpy nibabel:python3-nibabel matplotlib:python3-matplotlib websocket:python3-websocket; do
    /usr/bin/python3 -c "import ${pair%%:*}" >/dev/null 2>&1 || bench_missing+=("${pair#*:}")
  done
  if [ ${#bench_missing[@]} = 0 ]; then
    log "benchmarks: /usr/bin/python3 has torch, numpy, nibabel, matplotlib and websocket"
  else
    die "benchmarks need /usr/bin/python3 with ${bench_missing[*]} (Debian packages; on another system: pip install torch numpy nibabel matplotlib for /usr/bin/python3)"
  fi
fi

# 4. Real test data from Debian packages (DESIGN.md §5), unpacked into the ignored testdata/
mkdir -p "$DATA/debs" "$DATA/root"
for pkg in python3-nibabel mricron-data insighttoolkit5-examples; do
  marker="$DATA/root/.$pkg"
  [ -f "$marker" ] && continue
  if ! have_apt; then log "WARNING: cannot fetch $pkg without apt-get; tests that need it will be skipped"; continue; fi
  log "fetching test data package $pkg"
  apt_update
  rm -f "$DATA/debs/${pkg}"_*.deb
  if (cd "$DATA/debs" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
    dpkg -x "$DATA/debs/${pkg}"_*.deb "$DATA/root" && touch "$marker"
  else
    log "WARNING: could not download $pkg; tests that need it will be skipped"
  fi
done

# 5. Expected values from the independent reader (nibabel), computed once per machine
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import nibabel, numpy' 2>/dev/null; then
  if [ ! -f "$DATA/reference/nibabel.json" ] || [ "$ROOT/scripts/make_reference.py" -nt "$DATA/reference/nibabel.json" ]; then
    log "computing nibabel reference values"
    mkdir -p "$DATA/reference"
    /usr/bin/python3 "$ROOT/scripts/make_reference.py" "$DATA/root" > "$DATA/reference/nibabel.json.tmp"
    mv "$DATA/reference/nibabel.json.tmp" "$DATA/reference/nibabel.json"
  fi
else
  log "WARNING: /usr/bin/python3 with nibabel unavailable; reference comparisons will be skipped"
fi
log "ready"
