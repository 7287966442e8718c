#!/usr/bin/env bash
# Proof (a) of issue 15, rerunnable: trains UNET3D_CICEK on 1 mm RAS synthetic phantoms with a plan,
# then predicts an unseen phantom at 1 mm RAS and the same phantom resampled to 2x2x3 mm and stored
# in LSA order, with the plan (reorient + resample in, probabilities back out) and without it.
# Prints the Dice figures; the test asserts |with plan - same grid| <= 0.02 and without < with - 0.05.
#   EPOCHS=8 benchmarks/plan-proof.sh        (default 8 epochs; more epochs, steadier figures)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build MedZoo.sln -c Release -v q -nologo 2>&1 | tail -1
MEDZOO_PLAN_PROOF_EPOCHS="${EPOCHS:-8}" dotnet test MedZoo.Tests -c Release --no-build \
  --filter "FullyQualifiedName~MedZoo.Tests.Engine.Planning.PlanProofTests" --logger "console;verbosity=detailed" \
  | grep -E "Dice|training|Passed|Failed" || true
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
