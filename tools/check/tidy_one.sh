#!/usr/bin/env bash
# tools/check/tidy_one.sh BUILD_DIR CACHE_DIR FILE
#
# clang-tidy-19 on one translation unit, with a result cache: the key is the hash of the file's
# preprocessed text (so every header it includes counts), its compile command, .clang-tidy and
# the clang-tidy version. A clean result is cached; a finding is printed and never cached.
# Exit status: 0 clean, 1 findings (printed), 2 could not run.
set -uo pipefail
build=$1 cache=$2 file=$3
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command=$(python3 - "$build/compile_commands.json" "$file" <<'PY'
import json, os, sys
db, target = sys.argv[1], os.path.realpath(sys.argv[2])
for entry in json.load(open(db)):
    if os.path.realpath(os.path.join(entry["directory"], entry["file"])) == target:
        print(entry["directory"]); print(entry.get("command") or " ".join(entry["arguments"])); break
PY
)
[[ -n $command ]] || { echo "check: $file is not in $build/compile_commands.json" >&2; exit 2; }
directory=${command%%$'\n'*}
compile=${command#*$'\n'}
# The preprocessed text: the compile command with -E instead of -c/-o (run where cmake runs it).
read -r -a argv <<<"$compile"
pre=()
skip=0
for a in "${argv[@]}"; do
  if ((skip)); then skip=0; continue; fi
  case $a in
    -o) skip=1 ;;
    -c) ;;
    *ccache) ;;
    *) pre+=("$a") ;;
  esac
done
key=$( { (cd "$directory" && "${pre[@]}" -E -P 2>/dev/null); printf '%s\n' "$compile"; cat "$repo/.clang-tidy";
         clang-tidy-19 --version; } | sha256sum | cut -d' ' -f1)
[[ -f $cache/$key ]] && exit 0
if out=$(clang-tidy-19 -p "$build" --quiet "$file" 2>/dev/null) && ! grep -qE '(warning|error):' <<<"$out"; then
  mkdir -p "$cache" && touch "$cache/$key"
  exit 0
fi
printf '%s\n' "$out" | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated'
exit 1
