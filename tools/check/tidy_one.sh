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
# clang-tidy parses the compile command with clang, but build/ is usually a GCC build, whose
# flags lack the clang-only ones cmake/SluiceWarnings.cmake adds for a Clang build. Without
# them, -Wpedantic reports librdkafka's RD_KAFKA_V_* macros, and under CI's -Werror as errors
# that no check filter suppresses.
extra=(--extra-arg=-Wno-gnu-statement-expression-from-macro-expansion --extra-arg=-Wno-unknown-warning-option)
key=$( { (cd "$directory" && "${pre[@]}" -E -P 2>/dev/null); printf '%s\n' "$compile" "${extra[*]}"; cat "$repo/.clang-tidy";
         clang-tidy-19 --version; } | sha256sum | cut -d' ' -f1)
[[ -f $cache/$key ]] && exit 0
# A run that fails without a finding (killed for memory, a crash) is tried once more, and then
# reported with its exit status and stderr, so that a failed check always says why.
for attempt in 1 2; do
  err=$(mktemp)
  out=$(clang-tidy-19 -p "$build" "${extra[@]}" --quiet "$file" 2>"$err")
  rc=$?
  if ((rc == 0)) && ! grep -qE '(warning|error):' <<<"$out"; then
    rm -f "$err"
    mkdir -p "$cache" && touch "$cache/$key"
    exit 0
  fi
  if grep -qE '(warning|error):' <<<"$out"; then
    rm -f "$err"
    printf '%s\n' "$out" | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated'
    exit 1
  fi
  if ((attempt == 2)); then
    echo "check: clang-tidy-19 failed on $file (exit status $rc) without a finding:"
    grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated' "$err" | tail -n 20
    printf '%s\n' "$out" | tail -n 20
    rm -f "$err"
    exit 1
  fi
  rm -f "$err"
done
