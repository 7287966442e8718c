#!/usr/bin/env bash
# GPU readiness check (issue 19.5): on a machine where MedZoo's CUDA build exists, train a few steps
# and run one inference on the GPU and on the CPU from the same seed, compare the results within
# tolerance, and print the step and inference times. Exit code 0: the GPU build trains and infers
# like the CPU build; 1: it does not (the reason is printed); 2: it cannot be checked here.
#
#   scripts/gpu-check.sh                 # builds MedZoo.Web with -p:TorchBackend=cuda into $OUT/bin first
#   scripts/gpu-check.sh --no-build      # uses MedZoo.Web/bin/Release/net10.0 as built (must be the CUDA build)
#   GPU_CHECK_DEVICE=cpu scripts/gpu-check.sh --no-build   # the script's own dry run on a CPU-only machine
#
# The CUDA build needs libtorch's CUDA packages (TorchSharp-cuda-linux, from nuget.org): a machine
# that can reach the public package feed and has the NVIDIA driver. Settings: GPU_CHECK_DIR (work
# folder, default a new temporary one), GPU_CHECK_STEPS (training steps, default 8),
# GPU_CHECK_TOLERANCE (largest relative difference of the training losses, default 0.05; the
# probabilities must agree to 1e-3 and the labels on 99.9 % of voxels).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEVICE=${GPU_CHECK_DEVICE:-cuda}
OUT=${GPU_CHECK_DIR:-}
STEPS=${GPU_CHECK_STEPS:-8}
TOLERANCE=${GPU_CHECK_TOLERANCE:-0.05}
PY=/usr/bin/python3
log() { printf '[gpu-check] %s\n' "$*"; }
cannot() { printf '[gpu-check] cannot check: %s\n' "$*" >&2; exit 2; }
fail() { printf '[gpu-check] FAILED: %s\n' "$*" >&2; exit 1; }

command -v dotnet >/dev/null || cannot "dotnet (the .NET 10 SDK) is not on PATH"
[ -x "$PY" ] && "$PY" -c 'import nibabel, numpy' 2>/dev/null || cannot "$PY with nibabel and numpy is needed to compare volumes (scripts/prereqs.sh)"
if [ "$DEVICE" != cpu ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || cannot "no NVIDIA GPU or driver here (nvidia-smi -L fails)"
fi
if [ -n "$OUT" ]; then mkdir -p "$OUT"; else OUT=$(mktemp -d -t medzoo-gpu-check-XXXXXX); fi

if [ "${1:-}" = --no-build ]; then
  BIN="$ROOT/MedZoo.Web/bin/Release/net10.0"
else
  log "building MedZoo.Web with TorchBackend=cuda into $OUT/bin (needs nuget.org for TorchSharp-cuda-linux)"
  dotnet build "$ROOT/MedZoo.Web/MedZoo.Web.csproj" -c Release -p:TorchBackend=cuda -o "$OUT/bin" 2>&1 | tail -3 \
    || cannot "the CUDA build failed (is nuget.org reachable?)"
  BIN="$OUT/bin"
fi
MEDZOO=(dotnet "$BIN/medzoo.dll")
[ -f "$BIN/medzoo.dll" ] || cannot "$BIN/medzoo.dll is missing"

# The same small run on both devices: UNET3D, 32³ patches, batch 2, synthetic subjects, fixed seed,
# no augmentation (its random draws would differ between the runs' thread timings otherwise).
train() {
  local device=$1
  "${MEDZOO[@]}" train --model UNET3D --dim 32 --batchSz 2 --nEpochs 1 --samples_train $((STEPS * 2)) --samples_val 2 \
    --synthetic_subjects 4 --synthetic_size 64 --augmentation False --sampler random --seed 20261207 --workers 1 \
    --device "$device" --record False --output "$OUT/train-$device" > "$OUT/train-$device.log" 2>&1 \
    || fail "training on $device failed: $(tail -3 "$OUT/train-$device.log")"
}
log "training $STEPS steps on $DEVICE and on cpu"
train "$DEVICE"
[ "$DEVICE" = cpu ] || train cpu

summary() { "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); h=s["history"][0]; print(s["device"], s["globalStep"], h["trainLoss"], round(h["seconds"] / max(1, s["globalStep"]), 3))' "$1"; }
read -r gdev gsteps gloss gstep < <(summary "$OUT/train-$DEVICE/summary.json")
read -r _ csteps closs cstep < <(summary "$OUT/train-cpu/summary.json")
case "$gdev" in "$DEVICE"*) ;; *) fail "asked for $DEVICE but the run trained on $gdev (is this the CUDA build? see $OUT/train-$DEVICE.log)";; esac
log "train: $gdev $gsteps steps, loss $gloss, $gstep s/step (epoch incl. validation) | cpu $csteps steps, loss $closs, $cstep s/step"
"$PY" - "$gloss" "$closs" "$TOLERANCE" <<'PY' || fail "training losses differ by more than the tolerance"
import sys
g, c, tol = map(float, sys.argv[1:])
rel = abs(g - c) / max(abs(c), 1e-12)
print(f"[gpu-check] training loss relative difference {rel:.2e} (tolerance {tol})")
sys.exit(0 if rel <= tol else 1)
PY

# One inference on each device with the CPU-trained checkpoint, on the same volume.
"$PY" - "$OUT/input.nii.gz" <<'PY'
import sys, numpy as np, nibabel as nib
rng = np.random.default_rng(20261207)
x, y, z = np.meshgrid(*(np.linspace(-1, 1, 48),) * 3, indexing="ij")
head = np.where(np.sqrt(x * x + y * y + z * z) < 0.8, 800.0, 100.0) + rng.normal(0, 30, x.shape)
nib.save(nib.Nifti1Image(head.astype(np.float32), np.eye(4)), sys.argv[1])
PY
infer() {
  local device=$1 started
  started=$(date +%s%N)
  "${MEDZOO[@]}" infer --checkpoint "$OUT/train-cpu/last.ckpt" --input "$OUT/input.nii.gz" --input "$OUT/input.nii.gz" \
    --output "$OUT/pred-$device.nii.gz" --probabilities --device "$device" > "$OUT/infer-$device.log" 2>&1 \
    || fail "inference on $device failed: $(tail -3 "$OUT/infer-$device.log")"
  log "infer on $device: $(( ($(date +%s%N) - started) / 1000000 )) ms (48³ volume, 32³ windows, overlap 0.5, process start-up included)"
}
infer "$DEVICE"
[ "$DEVICE" = cpu ] || infer cpu
"$PY" - "$OUT" "$DEVICE" <<'PY' || fail "the $DEVICE inference differs from the CPU's"
import sys, numpy as np, nibabel as nib
out, device = sys.argv[1:]
p = lambda d: np.asanyarray(nib.load(f"{out}/pred-{d}_probabilities.nii.gz").dataobj)
l = lambda d: np.asanyarray(nib.load(f"{out}/pred-{d}.nii.gz").dataobj)
diff = float(np.abs(p(device) - p("cpu")).max())
agree = float((l(device) == l("cpu")).mean())
print(f"[gpu-check] inference: largest probability difference {diff:.2e} (limit 1e-3), labels agree on {agree:.4%} of voxels (limit 99.9 %)")
sys.exit(0 if diff <= 1e-3 and agree >= 0.999 else 1)
PY
log "OK: $DEVICE trains and infers like the CPU (work folder $OUT)"
