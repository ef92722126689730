# help.sh - every subcommand answers --help with its options and exit 0, and
# a parameter block shared by two commands is one table: the same lines in
# both (the defaults read from each command's own starting values).
. "$(dirname "$0")/common.sh"
for cmd in simulate recon compare frc stitch bench; do
  if "$PTYCHO" $cmd --help >help_$cmd.txt 2>&1 && grep -q "usage: ptycho $cmd" help_$cmd.txt && grep -q -- "--help" help_$cmd.txt; then
    pass "ptycho $cmd --help"
  else
    fail "ptycho $cmd --help"; cat help_$cmd.txt
  fi
done
if "$PTYCHO" --help | grep -q "recon"; then pass "ptycho --help lists commands"; else fail "ptycho --help"; fi

# block: the lines from its heading to the next blank line
block() { awk -v h="$1" '$0 == h { on = 1 } on && $0 == "" { exit } on' "$2"; }
same_block() { # heading, two commands
  block "$1" help_$2.txt >block_$2.txt
  block "$1" help_$3.txt >block_$3.txt
  if [ -s block_$2.txt ] && diff block_$2.txt block_$3.txt >/dev/null; then
    pass "'$1' reads the same in ptycho $2 and ptycho $3 ($(($(wc -l <block_$2.txt) - 1)) flags)"
  else
    fail "'$1' differs between ptycho $2 and ptycho $3:"; diff block_$2.txt block_$3.txt | sed 's/^/    /'
  fi
}
same_block "stitching blocks (recon --mpi-mode async, ptycho stitch):" recon stitch
grep -q -- "--upsample N  *old spelling of --stitch-upsample" help_stitch.txt \
  && pass "stitch --help names --upsample as the old spelling of --stitch-upsample" || fail "stitch --help lacks --upsample"
# ePIE: the same table, bench starting --iterations at 5 and --probe-start at 0 (recon 100, 10)
block "ePIE:" help_recon.txt | grep -v -- "--iterations\|--probe-start" >epie_recon.txt
block "ePIE:" help_bench.txt | grep -v -- "--iterations\|--probe-start" >epie_bench.txt
if [ -s epie_recon.txt ] && diff epie_recon.txt epie_bench.txt >/dev/null; then pass "ePIE block the same in recon and bench"
else fail "ePIE block differs"; diff epie_recon.txt epie_bench.txt | sed 's/^/    /'; fi
grep -q -- "--probe-start N .*(default 0)$" help_bench.txt && grep -q -- "--probe-start N .*(default 10)$" help_recon.txt \
  && pass "each command shows its own default" || fail "defaults of --probe-start not each command's own"
# scan: the same table in simulate and bench, each with its own defaults (16 x 16 step 8 of 64, the seed case)
block "scan:" help_simulate.txt | sed 's/ (default [^)]*)$//' >scan_simulate.txt
block "scan:" help_bench.txt | sed 's/ (default [^)]*)$//' >scan_bench.txt
if [ "$(wc -l <scan_simulate.txt)" -eq 5 ] && diff scan_simulate.txt scan_bench.txt >/dev/null; then pass "scan block the same in simulate and bench"
else fail "scan block differs"; diff scan_simulate.txt scan_bench.txt | sed 's/^/    /'; fi
if "$PTYCHO" recon --modes 7 --help | grep -q -- "--modes N .*(default 1)$"; then pass "--help shows defaults, not flags before it"
else fail "--help after --modes 7"; fi
finish
