#!/usr/bin/env bash
# Declares every public API the analyzer reports as undeclared (RS0016) in the project's
# PublicAPI.Unshipped.txt, kept sorted: run it after adding public API on purpose, then review the diff.
# Usage: tools/api/declare-public-api.sh [engine|kernels ...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/../.."
for dir in "${@:-engine kernels}"; do
  for d in $dir; do
    project=$(ls "$d"/*.csproj)
    # The build fails while anything is undeclared; its messages are what this script reads.
    log=$(dotnet build "$project" -c Release --no-incremental 2>&1 || true)
    undeclared=$(sed -n "s/.*error RS0016: Symbol '\(.*\)' is not part of the declared public API.*/\1/p" <<< "$log" | sort -u)
    [ -n "$undeclared" ] || { echo "$d: nothing undeclared"; continue; }
    file="$d/PublicAPI.Unshipped.txt"
    { echo "#nullable enable"; { tail -n +2 "$file"; echo "$undeclared"; } | grep -v '^$' | sort -u; } > "$file.tmp"
    mv "$file.tmp" "$file"
    echo "$d: declared $(echo "$undeclared" | wc -l) in $file"
  done
done
