# python_binding.sh - `pip install ./python` into a fresh virtual
# environment, then tests/python/test_binding.py reconstructs the scan the
# program reconstructs and must match its NRMSE within 1 %.  Skips only when
# Python lacks venv, pip or numpy (scripts/install-deps.sh installs them).
. "$(dirname "$0")/common.sh"
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
PY=""
for p in /usr/bin/python3 python3; do
  command -v "$p" >/dev/null && "$p" -c "import numpy, venv, ensurepip" 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "SKIPPED: no python3 with numpy, venv and pip (scripts/install-deps.sh installs them)"; exit 77; }
# a sanitizer build's library needs its runtime loaded before Python's own libraries
if ldd "$BUILD_DIR/libptycho.so" | grep -q libasan; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  export ASAN_OPTIONS=detect_leaks=0 # the interpreter's own allocations are not ours
fi
# --system-site-packages: numpy (and setuptools to build with) from the system, so no network is needed
"$PY" -m venv --system-site-packages venv || { fail "cannot make a virtual environment"; finish; }
cp -r "$SOURCE_DIR/python" pkg # pip builds in the package's folder: not in the source tree
PTYCHO_LIBRARY=$BUILD_DIR/libptycho.so venv/bin/pip install --no-build-isolation --no-index -q ./pkg >pip.log 2>&1 \
  && pass "pip install ./python" || { cat pip.log; fail "pip install failed"; finish; }
"$PTYCHO" simulate --output s.cxi --rows 10 --cols 10 --step 6 --frame 64 --seed 3 >/dev/null || exit 1
"$PTYCHO" recon s.cxi --output cli --iterations 50 --quiet --no-tiff >/dev/null || fail "ptycho recon failed"
(cd /tmp && "$WORK/venv/bin/python" -c "import ptycho, os; assert os.path.dirname(ptycho.__file__).startswith('$WORK/venv')") \
  && pass "the installed package is imported" || fail "ptycho not imported from the virtual environment"
venv/bin/python "$SOURCE_DIR/tests/python/test_binding.py" "$PTYCHO" 50 && pass "binding checks" || fail "binding checks"
finish
