#!/usr/bin/env bash
# demo.sh - quick start: install dependencies, build, simulate a scan, reconstruct it
# (GPU if present, else CPU), write images, and print the error against ground truth.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build
out=demo-output
mkdir -p "$out"
./build/ptycho simulate --output "$out/scan.cxi" --rows 16 --cols 16 --step 6 --jitter 1 --frame 64 --seed 1
./build/ptycho recon --input "$out/scan.cxi" --output "$out/recon" --iterations 200
./build/ptycho compare "$out/recon.h5" "$out/scan.cxi"
echo "demo: images in $out/ (recon_object_phase.png quick-look; recon_object_phase.tif, recon_object_magnitude.tif, recon_probe_modes.tif)"
