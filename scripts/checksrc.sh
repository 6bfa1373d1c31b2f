#!/usr/bin/env bash
# Source checks that the compiler does not do: banned calls and formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find core kb include tests -name '*.[ch]')
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol)\s*\(' $files; then
  echo "checksrc: banned calls above (use snprintf, strtol, sb_buf)"; status=1
fi
if command -v clang-format >/dev/null; then
  if ! clang-format --dry-run --Werror $files 2>/dev/null; then
    echo "checksrc: files not formatted; run: clang-format -i \$(git ls-files '*.c' '*.h')"; status=1
  fi
fi
exit $status
