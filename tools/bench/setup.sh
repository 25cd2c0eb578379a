#!/bin/sh
# Installs what `dspec-bench peers` compares against: Debian's OpenBLAS (pthread build, so
# openblas_set_num_threads controls its threads). llama.cpp itself comes with LLamaSharp's NuGet packages.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends libopenblas0-pthread
