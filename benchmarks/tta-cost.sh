#!/usr/bin/env bash
# Cost of mirroring test-time augmentation (infer --tta, 8 passes per window) against a plain prediction,
# rerunnable: trains a small UNET3D_CICEK (base 8, depth 3) for one epoch on synthetic phantoms, writes a
# 48³ input, then times `medzoo infer` plain and with --tta, interleaved, ROUNDS times each, and prints the
# medians, their ratio and the CPU.   ROUNDS=5 benchmarks/tta-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
dotnet build MedZoo.sln -c Release -v q -nologo 2>&1 | tail -1
MZ=(dotnet MedZoo.Web/bin/Release/net10.0/medzoo.dll)
"${MZ[@]}" train --model UNET3D_CICEK --base_filters 8 --depth 3 --dim 32 --batchSz 2 --nEpochs 1 --samples_train 4 --samples_val 2 \
  --synthetic_subjects 3 --synthetic_size 48 --modalities T1 --augmentation False --record False --output "$W/run" --run_id tta-cost >/dev/null
/usr/bin/python3 - "$W/in.nii.gz" <<'PY'
import sys, numpy as np, nibabel as nib
rng = np.random.default_rng(1)
nib.save(nib.Nifti1Image((100 + 50 * rng.random((48, 48, 48))).astype(np.float32), np.eye(4)), sys.argv[1])
PY
CKPT="$W/run/best.ckpt"; [ -f "$CKPT" ] || CKPT="$W/run/last.ckpt"
IN=("$W/in.nii.gz") # trained on T1 alone: one input
# Wall time of one whole `medzoo infer` process (start-up and checkpoint loading included, the same in both).
time_one() {
  local s e; s=$(date +%s.%N)
  "${MZ[@]}" infer --checkpoint "$CKPT" --input "${IN[@]}" --output "$W/out.nii.gz" --overlap 0.5 "$@" >"$W/infer.log" 2>&1 \
    || { cat "$W/infer.log" >&2; exit 1; }
  e=$(date +%s.%N); echo "$e - $s" | bc
}
plain=(); tta=()
for _ in $(seq "$ROUNDS"); do plain+=("$(time_one)"); tta+=("$(time_one --tta)"); done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mp=$(median "${plain[@]}"); mt=$(median "${tta[@]}")
echo "plain: ${plain[*]} s (median $mp)"
echo "tta:   ${tta[*]} s (median $mt)"
echo "ratio of medians: $(echo "scale=2; $mt / $mp" | bc)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
