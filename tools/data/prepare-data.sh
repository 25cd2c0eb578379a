#!/usr/bin/env bash
# Rebuilds the gitignored training data on a fresh clone: corpora (fetch-corpora.sh), then token files in
# data/tokens/ made with the committed shared tokenizer in weights/tokenizer/.
# The committed artefacts change only when asked: --retrain-tokenizer rewrites weights/tokenizer/ (every model
# trained on the old one then needs retraining), --remake-prompts rewrites data/prompts/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

retrain=0 prompts=0
for arg in "$@"; do
  case "$arg" in
    --retrain-tokenizer) retrain=1 ;;
    --remake-prompts) prompts=1 ;;
    *) echo "usage: $0 [--retrain-tokenizer] [--remake-prompts]" >&2; exit 2 ;;
  esac
done

bash tools/data/fetch-corpora.sh

artifacts="${DSPEC_ARTIFACTS:-$root/out/data-cli}"
echo "building the CLI into $artifacts"
dotnet build tools/cli/Cli.csproj -c Release --artifacts-path "$artifacts" -v quiet -nologo >/dev/null
dspec="$artifacts/bin/Cli/release/dspec"

corpora=data/corpora
if (( retrain )); then
  "$dspec" train-tokenizer --input "$corpora/code/train.txt,$corpora/prose/train.txt" --vocab 8192 -o weights/tokenizer
fi
# The target and the plain draft train on both tasks: code followed by prose.
mkdir -p "$corpora/mix"
for split in train valid; do
  { cat "$corpora/code/$split.txt"; printf '<|endoftext|>'; cat "$corpora/prose/$split.txt"; } >"$corpora/mix/$split.txt"
done
for task in code prose mix; do
  for split in train valid; do
    "$dspec" tokenize --model weights/tokenizer --input "$corpora/$task/$split.txt" -o "data/tokens/$task-$split.bin"
  done
done
if (( prompts )); then
  "$dspec" make-prompts --model weights/tokenizer --input "$corpora/code/test.txt" --cut line --count 300 --seed 1 -o data/prompts/code.jsonl
  "$dspec" make-prompts --model weights/tokenizer --input "$corpora/prose/test.txt" --cut sentence --count 300 --seed 1 -o data/prompts/prose.jsonl
fi
echo "done: token files in data/tokens/ (check data/SOURCES.md for the expected hashes)"
