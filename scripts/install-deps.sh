#!/usr/bin/env bash
# install-deps.sh - install what ptycho needs to build and test on Debian/Ubuntu.
# Runs apt-get only for packages that are missing; needs root (or sudo).
set -euo pipefail
# python3-numpy, python3-h5py: the independent simulator the tests check ptycho against (tests/indep/);
# python3-venv, -pip, -setuptools: the Python binding's test installs python/ into a fresh virtual environment
pkgs=(build-essential cmake pkg-config libhdf5-dev libtiff-dev zlib1g-dev libfftw3-dev libopenmpi-dev openmpi-bin
      python3 python3-numpy python3-h5py python3-venv python3-pip python3-setuptools)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "install-deps: error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
