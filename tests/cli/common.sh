# common.sh - helpers for the end-to-end tests (sourced).
set -u
: "${PTYCHO:?PTYCHO must point at the ptycho program}"
: "${WORK:?WORK must name a scratch directory}"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
failures=0

pass() { echo "PASSED  $*"; }
fail() { echo "FAILED  $*"; failures=$((failures + 1)); }

# expect_error "what" "message substring" cmd...: non-zero exit, one
# "ptycho: error:" line containing the substring, no result files left.
expect_error() {
  local what=$1 want=$2
  shift 2
  rm -rf out && mkdir out
  "$@" >stdout.txt 2>stderr.txt
  local rc=$?
  local leftovers
  leftovers=$(ls out)
  if [ $rc -eq 0 ]; then
    fail "$what: exit status 0"
  elif ! grep -qF -- "$want" stderr.txt; then
    fail "$what: stderr lacks '$want':"; sed 's/^/    /' stderr.txt
  elif [ "$(grep -c '^ptycho: error:' stderr.txt)" -ne 1 ]; then
    fail "$what: expected exactly one error line:"; sed 's/^/    /' stderr.txt
  elif [ -n "$leftovers" ]; then
    fail "$what: left files behind: $leftovers"
  elif grep -qiE 'AddressSanitizer|runtime error|Segmentation' stderr.txt; then
    fail "$what: crashed"; sed 's/^/    /' stderr.txt
  else
    pass "$what (exit $rc): $(grep '^ptycho: error:' stderr.txt)"
  fi
}

# need_numpy: PY names a python3 with numpy and h5py (the independent
# simulator's), or the test is skipped (exit 77)
need_numpy() {
  PY=
  for p in /usr/bin/python3 python3; do
    if "$p" -c "import numpy, h5py" 2>/dev/null; then PY=$p; return 0; fi
  done
  echo "SKIPPED: no python3 with numpy and h5py (scripts/install-deps.sh installs them)"
  exit 77
}

# value_of KEY FILE: the first number after KEY at the start of a line
value_of() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# check "what" "awk condition using x and y" x y
check() {
  local what=$1 cond=$2 x=$3 y=${4:-0}
  if awk -v x="$x" -v y="$y" "BEGIN { exit !($cond) }"; then pass "$what ($x vs $y)"; else fail "$what ($x vs $y)"; fi
}

finish() {
  if [ $failures -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
  exit 0
}
