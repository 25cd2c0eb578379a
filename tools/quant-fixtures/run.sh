#!/bin/sh
# Regenerates tests/Backends/Blocks/Fixtures from llama.cpp's own quantizers and dequantizers
# (libggml-base.so from the LLamaSharp.Backend.Cpu NuGet package). Needs NuGet once; the
# fixtures are checked in, so the tests never need this tool or the native library.
set -eu
cd "$(dirname "$0")/../.."
dotnet build tools/quant-fixtures/QuantFixtures.csproj -c Release -v q -nologo
native="${NUGET_PACKAGES:-$HOME/.nuget/packages}/llamasharp.backend.cpu/0.30.0/LLamaSharpRuntimes/linux-x64/native"
dotnet tools/quant-fixtures/bin/Release/net10.0/quant-fixtures.dll tests/Backends/Blocks/Fixtures "$native"
