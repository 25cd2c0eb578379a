#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU (tools/gpu/README in README.md's "GPU check"):
#   1. offline: every kernel compiled to PTX for sm_80/sm_90, assembled by ptxas where it can be had
#      (reports/ptx-kernels.md/.json);
#   2. the cross-backend op suite on CUDA (every op, every weight format, whole forward passes vs
#      the scalar reference);
#   3. dspec-bench gpu: logits vs the CPU, decode, 5-token verification, speculative decoding (target
#      on the GPU, draft on the CPU) on a Qwen2.5-0.5B-shaped random model and the shipped pair, and
#      each decode kernel's bandwidth against the memory roofline (reports/gpu-check.md/.json).
# Without a GPU, 2 and 3 report "no CUDA device" and the script still exits 0 after the offline part.
# Budget: under 8 minutes on an H100-class machine, build included (the bench is cut at 5 minutes, the
# ptxas download at 1). Exit 1 if the offline PTX tests, the op suite on CUDA or the bench fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
start=$SECONDS
failed=()
step() { echo; echo "== $* ($((SECONDS - start)) s)"; }

if ! command -v dotnet >/dev/null; then
  echo "check.sh: the .NET SDK (dotnet) is not on PATH; see README.md's set-up" >&2
  exit 1
fi

step "build"
dotnet build tools/bench/Bench.csproj -c Release -v quiet -nologo
dotnet build tests/Tests.csproj -c Release -v quiet -nologo

step "offline PTX for sm_80 and sm_90"
if [[ -z "${DSPEC_PTXAS:-}" ]] && ! command -v ptxas >/dev/null && [[ ! -x tools/gpu/.cuda/bin/ptxas ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    timeout 60 bash tools/gpu/install-ptxas.sh >/dev/null || echo "ptxas could not be installed here; PTX is generated but not assembled"
  else
    echo "ptxas not installed and not root: PTX is generated but not assembled (run tools/gpu/install-ptxas.sh as root)"
  fi
fi
dotnet test tests/Tests.csproj -c Release --no-build --nologo --filter "FullyQualifiedName~OfflinePtxTests"
dotnet tools/bench/bin/Release/net10.0/dspec-bench.dll ptx

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  step "op suite on CUDA"
  # The suite runs every backend that opens; DSPEC_EXPECT_DEVICES makes a CUDA that fails to open an error, not a skip.
  DSPEC_EXPECT_DEVICES=cuda dotnet test tests/Tests.csproj -c Release --no-build --nologo \
    --filter "FullyQualifiedName~BackendOpsTests&(DisplayName~cuda|FullyQualifiedName~EveryBackendThatOpensHereIsTested)" \
    || failed+=("op suite on CUDA")
else
  step "op suite on CUDA"
  echo "no CUDA device (nvidia-smi finds no GPU): op suite on CUDA skipped"
fi

step "dspec-bench gpu"
# The report is rewritten after each measured row, so the time limit keeps the script within its budget
# and still leaves what was measured.
status=0
timeout 300 dotnet tools/bench/bin/Release/net10.0/dspec-bench.dll gpu "$@" || status=$?
if [[ $status -eq 124 ]]; then
  echo "dspec-bench gpu reached its time limit; reports/gpu-check.* hold the rows it finished"
elif [[ $status -ne 0 ]]; then
  failed+=("dspec-bench gpu (exit $status)")
fi

step "done"
echo "reports: reports/ptx-kernels.md (when ptxas is available) and reports/gpu-check.md (when a CUDA device is present)"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
