#!/usr/bin/env bash
# install-deps.sh [--tests] - install what ptycho needs to build and test on Debian/Ubuntu.
# Runs apt-get only for packages that are missing; needs root (or sudo).
# Optional packages (where apt cannot install them, the checks that need them skip): the HDF5
# compression plugins detector files need; with --tests also a headless browser (Debian's chromium)
# for the test that renders the live reconstruction's page (live.follow).
set -euo pipefail
# python3-numpy, python3-h5py: the independent simulator the tests check ptycho against (tests/indep/);
# python3-venv, -pip, -setuptools: the Python binding's test installs python/ into a fresh virtual environment
pkgs=(build-essential cmake pkg-config libhdf5-dev libtiff-dev zlib1g-dev libfftw3-dev libopenmpi-dev openmpi-bin
      python3 python3-numpy python3-h5py python3-venv python3-pip python3-setuptools)
# hdf5-filter-plugin, bitshuffle: detector files' compression filters (bitshuffle/LZ4, LZ4, bzip2)
optional=(hdf5-filter-plugin bitshuffle)
[ "${1:-}" = "--tests" ] && optional+=(chromium)
missing=() missing_optional=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${optional[@]}"; do installed "$p" || missing_optional+=("$p"); done
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]} ${missing_optional[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "install-deps: error: need root (or sudo) to install: ${missing[*]} ${missing_optional[*]}" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
[ ${#missing[@]} -eq 0 ] || $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ ${#missing_optional[@]} -gt 0 ]; then
  $sudo apt-get install -y -qq --no-install-recommends "${missing_optional[@]}" ||
    echo "install-deps: could not install ${missing_optional[*]}; the checks that need them will skip"
fi
