# help.sh - every subcommand answers --help with its options and exit 0.
. "$(dirname "$0")/common.sh"
for cmd in simulate recon compare; do
  if "$PTYCHO" $cmd --help >help.txt 2>&1 && grep -q "usage: ptycho $cmd" help.txt && grep -q -- "--help" help.txt; then
    pass "ptycho $cmd --help"
  else
    fail "ptycho $cmd --help"; cat help.txt
  fi
done
if "$PTYCHO" --help | grep -q "recon"; then pass "ptycho --help lists commands"; else fail "ptycho --help"; fi
finish
