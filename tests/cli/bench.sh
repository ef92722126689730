# bench.sh - `ptycho bench` runs a small in-memory case and reports every
# figure (values are not judged here: timing belongs to benchmarks), and
# refuses impossible sizes with one message naming the flags.
. "$(dirname "$0")/common.sh"
"$PTYCHO" bench --rows 8 --cols 8 --frame 64 --iterations 3 --backend cpu --threads 1 --json | tee bench.json || exit 1
for key in median_s_per_iteration frame_updates_per_s simulate_s setup_s transfer_s peak_host_bytes bytes_per_iteration \
  fft_floor_s_per_iteration ratio_to_fft_floor frame_bytes peak_host_to_frames; do
  v=$(sed -n "s/.*\"$key\": \([0-9.e+-]*\).*/\1/p" bench.json)
  check "bench reports $key > 0" "x > 0" "${v:-0}"
done
check "bench counts 64 positions" "x == 64" "$(sed -n 's/.*"positions": \([0-9]*\).*/\1/p' bench.json)"
check "bench's frames: 64 of 64x64 floats" "x == 64 * 64 * 64 * 4" "$(sed -n 's/.*"frame_bytes": \([0-9.e+]*\).*/\1/p' bench.json)"
"$PTYCHO" bench --rows 4 --cols 4 --frame 32 --iterations 2 --backend cpu --threads 1 | tee bench.txt || exit 1
grep -q "frame-updates per second" bench.txt && pass "table has frame-updates per second" || fail "table lacks frame-updates"
grep -q "FFT floor per iteration .* the floor" bench.txt && pass "table has the FFT floor and the ratio" || fail "table lacks the FFT floor"
grep -q "peak host memory .*x the .* GiB of frames" bench.txt && pass "table has the peak memory against the frames" ||
  fail "table lacks the peak memory against the frames"
expect_error "scan too big for host memory" "use smaller --rows/--cols/--frame" "$PTYCHO" bench --rows 3000 --cols 3000 --frame 256
expect_error "too many frames" "is more than 1e7 frames" "$PTYCHO" bench --rows 100000 --cols 100000
expect_error "unknown backend" "ptycho bench: --backend must be one of auto|cpu|cuda, got 'fpga'" "$PTYCHO" bench --backend fpga
expect_error "unknown frame placement" "ptycho bench: --gpu-frames must be one of auto|resident|streamed, got 'disk'" "$PTYCHO" bench --gpu-frames disk
finish
