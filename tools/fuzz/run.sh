#!/usr/bin/env bash
# Fuzzes one parser for a while: tools/fuzz/run.sh PARSER MINUTES
# PARSER: safetensors, gguf, gguf-model, config or tokenizer. Prints the executions (every minute and at the
# end); inputs that break the property are written to tools/fuzz/corpus/PARSER/, where the test
# suite replays them (check them in once fixed). Several parsers may run at once: build first
# with FUZZ_BUILD_ONLY=1, then start each with FUZZ_NO_BUILD=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ "${FUZZ_NO_BUILD:-}" != 1 ]]; then
  dotnet build "$here/Fuzz.csproj" -c Release -nologo -v quiet >/dev/null
fi
[[ "${FUZZ_BUILD_ONLY:-}" == 1 ]] && exit 0
if [[ $# -ne 2 ]]; then
  echo "usage: tools/fuzz/run.sh PARSER MINUTES (PARSER: safetensors, gguf, gguf-model, config, tokenizer)" >&2
  exit 2
fi
exec dotnet "$here/bin/Release/net10.0/dspec-fuzz.dll" "$1" "$2" "$here/corpus"
