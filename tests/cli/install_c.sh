# install_c.sh - the installed library is usable on its own: cmake --install
# into a scratch prefix, then examples/recon_minimal.c (twenty lines against
# ptycho.h) is built twice, with `pkg-config ptycho` and with CMake's
# find_package(ptycho), and reconstructs a simulated scan.  Its result must
# score like the installed program's on the same scan (both run the same
# code, so within 1 %), and the shared library must export only ptycho_*.
. "$(dirname "$0")/common.sh"
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
prefix=$WORK/prefix
cmake --install "$BUILD_DIR" --prefix "$prefix" >install.log || { cat install.log; exit 1; }
for f in bin/ptycho include/ptycho.h lib/libptycho.so lib/libptycho.a lib/pkgconfig/ptycho.pc lib/cmake/ptycho/ptychoConfig.cmake; do
  [ -e "$prefix/$f" ] && pass "installed $f" || fail "missing $f"
done
leaked=$(nm -D --defined-only "$prefix/lib/libptycho.so" | awk '$2 ~ /[TDBR]/ && $3 !~ /^ptycho_/ && $3 !~ /^_/ {print $3}' | head -5)
[ -z "$leaked" ] && pass "libptycho.so exports only ptycho_*" || fail "libptycho.so exports internal names: $leaked"

# a sanitizer build's library needs its runtime loaded first
san=""
ldd "$prefix/lib/libptycho.so" | grep -q libasan && san="-fsanitize=address,undefined"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $san "$SOURCE_DIR/examples/recon_minimal.c" $(pkg-config --cflags --libs ptycho) \
  -o recon_pc 2>cc.log && pass "built with pkg-config" || { cat cc.log; fail "pkg-config build failed"; finish; }
cmake -S "$SOURCE_DIR/examples" -B ex -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$san" >cmake.log 2>&1 &&
  cmake --build ex >>cmake.log 2>&1 && pass "built with find_package(ptycho)" || { cat cmake.log; fail "CMake package build failed"; }

"$prefix/bin/ptycho" simulate --output s.cxi --rows 10 --cols 10 --step 6 --frame 64 --seed 3 >/dev/null || exit 1
./recon_pc s.cxi lib 50 | tee lib.txt || fail "recon_minimal (pkg-config) failed"
grep -q "^libptycho 0.1.0: 50 iterations" lib.txt && pass "progress through ptycho.h" || fail "no summary line"
[ -x ex/recon_minimal ] && { ex/recon_minimal s.cxi libcm 20 >/dev/null && [ -s libcm.h5 ] && pass "find_package build runs" || fail "find_package build failed to run"; }
"$prefix/bin/ptycho" recon s.cxi --output cli --iterations 50 --quiet --no-tiff >/dev/null || fail "ptycho recon failed"
"$prefix/bin/ptycho" compare lib.h5 s.cxi >cmp_lib.txt && "$prefix/bin/ptycho" compare cli.h5 s.cxi >cmp_cli.txt
lib=$(value_of nrmse cmp_lib.txt) cli=$(value_of nrmse cmp_cli.txt)
check "library NRMSE <= 0.025 (0.0183 measured)" "x <= 0.025" "$lib"
check "library NRMSE within 1 % of the program's" "x <= 1.01 * y && x >= 0.99 * y" "$lib" "$cli"
for f in lib_object_phase.tif lib_object_phase.png; do [ -s "$f" ] && pass "wrote $f" || fail "missing $f"; done
finish
