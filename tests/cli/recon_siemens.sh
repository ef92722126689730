# recon_siemens.sh - real fly-scan data (../shared/data/siemens-star-small.h5):
# reconstructs with 1 and with 5 modes, writes images, and the 5-mode final
# Fourier error is below the 1-mode one.  Skips when the file is absent.
. "$(dirname "$0")/common.sh"
data="$SHARED_DATA/siemens-star-small.h5"
if [ ! -r "$data" ]; then echo "SKIP: $data not found"; exit 77; fi
args=(--input "$data" --frames /entry_1/data_1/data
      --positions-px /entry_1/sample_1/geometry_1/translation_pixels
      --probe /entry_1/instrument_1/probe_guess --iterations 200 --backend cpu --print-every 25)
"$PTYCHO" recon "${args[@]}" --modes 1 --output star1 | tee log1.txt || exit 1
"$PTYCHO" recon "${args[@]}" --modes 5 --output star5 | tee log5.txt || exit 1
e1=$(awk '/^done:/ { for (i = 1; i <= NF; i++) if ($i == "error") print $(i + 1) }' log1.txt)
e5=$(awk '/^done:/ { for (i = 1; i <= NF; i++) if ($i == "error") print $(i + 1) }' log5.txt)
check "5-mode final Fourier error below 1-mode" "x < y" "$e5" "$e1"
for f in star1_object_phase.tif star5_object_phase.tif star5_probe_modes.tif; do
  if [ -s "$f" ]; then pass "wrote $f"; else fail "missing $f"; fi
done
finish
