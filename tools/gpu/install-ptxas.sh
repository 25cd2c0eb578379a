#!/usr/bin/env bash
# Gets NVIDIA's PTX assembler (ptxas) from Debian's nvidia-cuda-toolkit, which lives in the non-free
# component. Only that one package is downloaded, and only ptxas (a self-contained 19 MB binary)
# is kept, as tools/gpu/.cuda/bin/ptxas: the full install pulls in gigabytes of CUDA libraries that
# an offline register/spill report does not need. Prints the path of ptxas on success.
# Needs root for `apt-get update` with the added component. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/.cuda/bin/ptxas"

if command -v ptxas >/dev/null; then command -v ptxas; exit 0; fi
if [[ -x "$target" ]]; then echo "$target"; exit 0; fi

if ! command -v apt-get >/dev/null; then
  echo "install-ptxas: no apt-get here; install the CUDA toolkit's ptxas and put it on PATH" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-ptxas: adding Debian's non-free component needs root; run as root or install nvidia-cuda-toolkit" >&2
  exit 1
fi

. /etc/os-release
sources=/etc/apt/sources.list.d/debian-non-free.sources
if ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > "$sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME}
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  echo "install-ptxas: added $sources" >&2
fi
apt-get update -qq -o Dir::Etc::sourcelist="$sources" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >&2 \
  || apt-get update -qq >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download nvidia-cuda-toolkit >&2)
dpkg-deb -x "$work"/nvidia-cuda-toolkit_*.deb "$work/root"
found=$(find "$work/root" -name ptxas -type f -perm -u+x | head -n 1 || true)
if [[ -z "$found" ]]; then
  echo "install-ptxas: nvidia-cuda-toolkit holds no ptxas" >&2
  exit 1
fi
mkdir -p "$(dirname "$target")"
cp "$found" "$target.tmp" && mv "$target.tmp" "$target"
"$target" --version >&2
echo "$target"
