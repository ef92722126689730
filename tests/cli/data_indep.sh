# data_indep.sh - the committed scan of the independent simulator
# (data/indep_defocus_64.cxi: a defocused lens filling the window,
# continuous positions, Poisson counts, no probe in the file) reconstructs
# with the default settings, no flags: 200 iterations reach NRMSE <= 0.024
# (0.0220 measured on the CPU with sub-pixel positions; rounding them to
# whole pixels gave 0.0249, which this bound refuses).
. "$(dirname "$0")/common.sh"
: "${SOURCE_DIR:?}"
scan=$SOURCE_DIR/data/indep_defocus_64.cxi
[ -s "$scan" ] || { fail "missing $scan"; finish; }
before=$(cksum <"$scan")
"$PTYCHO" recon "$scan" --output r --iterations 200 --print-every 50 --no-tiff || { fail "recon failed"; finish; }
"$PTYCHO" compare r.h5 "$scan" | tee cmp.txt
check "independent scan, defaults, 200 iterations: NRMSE <= 0.024" "x <= 0.024" "$(value_of nrmse cmp.txt)"
[ "$(cksum <"$scan")" = "$before" ] && pass "the input is unchanged" || fail "the input was modified"
finish
