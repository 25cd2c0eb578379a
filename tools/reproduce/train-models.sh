#!/usr/bin/env bash
# Rebuilds every model in weights/ from the registry packages: corpora, token files, the target,
# the plain draft and the DistillSpec drafts. Seeds and settings here are the ones the shipped
# models were trained with. Takes about an hour on 2 cores; RUNS=DIR keeps run directories elsewhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-out/runs}
THREADS=${THREADS:-2}
DIVERGENCES=${DIVERGENCES:-"fkl rkl jsd:0.5 tvd"}
STEPS_TARGET=${STEPS_TARGET:-1000}
STEPS_DRAFT=${STEPS_DRAFT:-1600}
STEPS_DISTILL=${STEPS_DISTILL:-300}

bash tools/data/prepare-data.sh
dotnet build tools/cli/Cli.csproj -c Release -o out/cli >/dev/null
dspec() { out/cli/dspec "$@"; }

# Target and plain draft see the same data: both tasks' training splits, concatenated.
mkdir -p data/corpora/mix
{ cat data/corpora/code/train.txt; printf '<|endoftext|>'; cat data/corpora/prose/train.txt; } > data/corpora/mix/train.txt
{ cat data/corpora/code/valid.txt; printf '<|endoftext|>'; cat data/corpora/prose/valid.txt; } > data/corpora/mix/valid.txt
for split in train valid; do
  dspec tokenize -m weights/tokenizer -i data/corpora/mix/$split.txt -o data/tokens/mix-$split.bin
done

dspec train -d data/tokens/mix-train.bin --val data/tokens/mix-valid.bin -o "$RUNS/target" \
  --hidden 256 --layers 6 --heads 4 --kv-heads 2 --context 512 -b 8 -T 128 \
  --steps "$STEPS_TARGET" --lr 1.5e-3 --warmup 40 --eval-every 200 --save-every 200 --seed 1 -t "$THREADS"
dspec train -d data/tokens/mix-train.bin --val data/tokens/mix-valid.bin -o "$RUNS/draft" \
  --hidden 96 --layers 2 --heads 2 --kv-heads 1 --context 512 -b 8 -T 128 \
  --steps "$STEPS_DRAFT" --lr 2e-3 --warmup 50 --eval-every 200 --save-every 200 --seed 2 -t "$THREADS"

# DistillSpec: the plain draft distilled toward the target on code, on-policy (student samples).
for divergence in $DIVERGENCES; do
  name=${divergence%%:*}
  dspec distill --target "$RUNS/target/checkpoint" --draft "$RUNS/draft/checkpoint" \
    --data data/tokens/code-train.bin --eval-data data/tokens/code-valid.bin -o "$RUNS/distill-code-$name" \
    --divergence "$divergence" --source student --student-temp 1 --prompt-len 32 --cont-len 32 -b 8 \
    --steps "$STEPS_DISTILL" --lr 5e-4 --eval-every 50 --eval-prompts 32 --seed 3 -t "$THREADS"
done

ship() { rm -rf "weights/$2"; mkdir -p "weights/$2"; cp "$1"/*.json "$1"/*.txt "$1"/model.safetensors "weights/$2/" 2>/dev/null || true; }
ship "$RUNS/target/checkpoint" target
ship "$RUNS/draft/checkpoint" draft-plain
for divergence in $DIVERGENCES; do ship "$RUNS/distill-code-${divergence%%:*}/checkpoint" "draft-code-${divergence%%:*}"; done
echo "models written to weights/; regenerate the report with: dotnet run --project tools/cli -c Release -- reproduce"
