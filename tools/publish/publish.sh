#!/usr/bin/env bash
# Publishes dspec as one self-contained, ReadyToRun-compiled file (artifacts/dspec/dspec) for
# linux-x64 (or the RID given), then measures its start-up against `dotnet dspec.dll`.
set -euo pipefail
cd "$(dirname "$0")/../.."
rid=${1:-linux-x64}
dotnet publish tools/cli/Cli.csproj -c Release -r "$rid" --self-contained \
  -p:PublishSingleFile=true -p:PublishReadyToRun=true -p:IncludeNativeLibrariesForSelfExtract=true -o artifacts/dspec
dotnet build tools/cli/Cli.csproj -c Release
dotnet run --project tools/bench -c Release -- startup --published artifacts/dspec/dspec
