/* cpu_rows.c - pty_pixel.h's per-pixel math over runs of a row, mode loops
 * outside (see cpu_rows.h).  A run is cut into blocks of PTY_ROW_BLOCK
 * pixels whose per-pixel sums over modes wait in small arrays on the stack:
 * the pixel loops then have no inner loop and vectorise.  Before this, with
 * the per-pixel functions called pixel by pixel, the three loops took 62 %
 * of a batched pass at 64x64 and FFTW 11 % (perf, 2 threads). */
#include "cpu_rows_copy.h"

#define PTY_ROW_BLOCK 128

/* The build targets the x86-64 baseline (SSE2), so that one binary runs on
 * every beamline machine; the pixel loops are also compiled for AVX2
 * (x86-64-v3), which the loader picks where the CPU has it, and, as
 * cpu_rows_avx512.c, for AVX-512 in vectors twice as wide
 * (cpu_rows_dispatch.c picks that).  All copies give the same bits: ISO C
 * (-std=c11) keeps gcc from fusing a multiply and an add
 * (-ffp-contract=off), and the sums' lanes are fixed here, not by the
 * vector width.  Measured, 64x64, 1 mode, 1 thread: the AVX2 copy took the
 * iteration from 13.9 to 11.0 ms.  PTY_BASELINE_ONLY builds the baseline
 * copy alone (its test, cpu_rows_baseline.unit). */
#ifdef PTY_ROWS_AVX512
#define COPY(name) name##_avx512
#define PTY_VECTOR_CLONES
#else
#define COPY(name) name##_narrow
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PTY_BASELINE_ONLY)
#define PTY_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PTY_VECTOR_CLONES
#endif
#endif
/* Helpers inlined into each copy, so they too are compiled for its target. */
#define ALWAYS_INLINE __attribute__((always_inline))

/* Pixels of the block starting at b0 of a run of n. */
static inline int block_len(int n, int b0) { return n - b0 < PTY_ROW_BLOCK ? n - b0 : PTY_ROW_BLOCK; }

/* A block's sums start from zero, only as many as the block uses.  A loop,
 * not "= {0}": after the memset that becomes, gcc 12 no longer vectorises
 * the selects of the projection (pty_modulus_factor). */
static inline void clear(float *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = 0.0f;
}

/* Sums in SUM_LANES independent lanes: C forbids the compiler to reorder a
 * float reduction, which is what vectorising it takes, and allows us to.
 * Eight in every copy: the lanes fix the order, and so the bits. */
#define SUM_LANES 8

static inline ALWAYS_INLINE float sum_of(const float *x, int n)
{
    float lane[SUM_LANES] = {0};
    int i = 0;
    for (; i + SUM_LANES <= n; i += SUM_LANES)
        for (int l = 0; l < SUM_LANES; l++) lane[l] += x[i + l];
    float sum = 0.0f;
    for (; i < n; i++) sum += x[i];
    for (int l = 0; l < SUM_LANES; l++) sum += lane[l];
    return sum;
}

/* The vector code's width in floats: four complex pixels (eight in the
 * AVX-512 copy).  Maxima and per-pixel results do not depend on it. */
#ifdef PTY_ROWS_AVX512
#define PTY_LANES 16
#else
#define PTY_LANES 8
#endif

/* Running maxima of powers (sums of squares: >= 0, or NaN), kept in
 * PTY_LANES lanes of four vectors and reduced to one float once a call
 * (max_to_float).  gcc does not vectorise a float max reduction (the select
 * a > b ? a : b over eight scalar lanes stayed eight vmaxss a step), and a
 * vector of lanes alone is a chain of dependent compares and selects.  The
 * bits of floats >= 0 order as the floats do when read as integers, so the
 * compare is an integer one (1 cycle, not 4); a NaN is made +0 first,
 * which never beats a maximum >= 0, so NaNs are left out (fmaxf's rule,
 * without its libm call).  A maximum is exact in any order: the bits are
 * as before.  tests/bench_rows 64 1 (the loops alone, in cache): the probe
 * power's maximum took 0.44-0.46 ns a pixel before, 0.35-0.37 now. */
typedef float lanes_f __attribute__((vector_size(PTY_LANES * sizeof(float))));
typedef int lanes_i __attribute__((vector_size(PTY_LANES * sizeof(int))));
enum { MAX_ACCS = 4 };
typedef struct {
    lanes_i v[MAX_ACCS];
} max_acc;

/* (vectors by pointer: a vector argument or result of a function is the
 * ABI's business, which -Wpsabi warns of in the baseline copy) */
static inline ALWAYS_INLINE void max_start(max_acc *acc, float init)
{
    int bits;
    __builtin_memcpy(&bits, &init, sizeof bits);
    for (int a = 0; a < MAX_ACCS; a++)
        for (int l = 0; l < PTY_LANES; l++) acc->v[a][l] = bits;
}

static inline ALWAYS_INLINE void raise_max(lanes_i *acc, const lanes_f *power)
{
    const lanes_i bits = (lanes_i)*power & (*power == *power);
    const lanes_i take = bits > *acc;
    *acc = (bits & take) | (*acc & ~take);
}

static inline ALWAYS_INLINE void raise_max_1(max_acc *acc, float x)
{
    lanes_f v = {0};
    v[0] = x;
    raise_max(&acc->v[0], &v);
}

static inline ALWAYS_INLINE float max_to_float(const max_acc *acc)
{
    int mx = acc->v[0][0];
    for (int a = 0; a < MAX_ACCS; a++)
        for (int l = 0; l < PTY_LANES; l++) mx = acc->v[a][l] > mx ? acc->v[a][l] : mx;
    float f;
    __builtin_memcpy(&f, &mx, sizeof f);
    return f;
}

/* acc raised to the maximum of the n powers x */
static inline ALWAYS_INLINE void max_lanes(const float *x, int n, max_acc *acc)
{
    int i = 0;
    for (; i + MAX_ACCS * PTY_LANES <= n; i += MAX_ACCS * PTY_LANES)
        for (int a = 0; a < MAX_ACCS; a++) {
            lanes_f v;
            __builtin_memcpy(&v, x + i + a * PTY_LANES, sizeof v);
            raise_max(&acc->v[a], &v);
        }
    for (; i < n; i++) raise_max_1(acc, x[i]);
}

/* Shuffles of vectors of PTY_LANES floats (PTY_LANES / 2 complex pixels, or PTY_LANES
 * real ones): lanes picked from v (SHUFFLE) or from v then w (SHUFFLE2),
 * each float swapped with its partner in its pixel (re <-> im), and each
 * pixel's re or im in both its lanes.  Macros: a function taking or returning a
 * vector is the ABI's business, which -Wpsabi warns of in the baseline
 * copy. */
#if defined(__clang__)
#define SHUFFLE(v, ...) __builtin_shufflevector(v, v, __VA_ARGS__)
#define SHUFFLE2(v, w, ...) __builtin_shufflevector(v, w, __VA_ARGS__)
#else
#define SHUFFLE(v, ...) __builtin_shuffle(v, (lanes_i){__VA_ARGS__})
#define SHUFFLE2(v, w, ...) __builtin_shuffle(v, w, (lanes_i){__VA_ARGS__})
#endif
#if PTY_LANES == 16
#define SWAP_PAIRS(v) SHUFFLE(v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14)
#define RE_BOTH(v) SHUFFLE(v, 0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14)
#define IM_BOTH(v) SHUFFLE(v, 1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15)
/* the even lanes of v then w, and the odd ones */
#define EVENS(v, w) SHUFFLE2(v, w, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODDS(v, w) SHUFFLE2(v, w, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
/* each of the first (LOW_TWICE) or last (HIGH_TWICE) half of v's lanes twice */
#define LOW_TWICE(v) SHUFFLE(v, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)
#define HIGH_TWICE(v) SHUFFLE(v, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)
#else
#define SWAP_PAIRS(v) SHUFFLE(v, 1, 0, 3, 2, 5, 4, 7, 6)
#define RE_BOTH(v) SHUFFLE(v, 0, 0, 2, 2, 4, 4, 6, 6)
#define IM_BOTH(v) SHUFFLE(v, 1, 1, 3, 3, 5, 5, 7, 7)
#define EVENS(v, w) SHUFFLE2(v, w, 0, 2, 4, 6, 8, 10, 12, 14)
#define ODDS(v, w) SHUFFLE2(v, w, 1, 3, 5, 7, 9, 11, 13, 15)
#define LOW_TWICE(v) SHUFFLE(v, 0, 0, 1, 1, 2, 2, 3, 3)
#define HIGH_TWICE(v) SHUFFLE(v, 4, 4, 5, 5, 6, 6, 7, 7)
#endif

/* pty_cmul(a, b) and pty_cmul_conj(a, b) on a vector's pixels, from a's re and im
 * in both lanes of each pixel (RE_BOTH, IM_BOTH) and b with its pairs
 * swapped (SWAP_PAIRS): the same products, added in the same order, a
 * product's sign flipped with its sign bit (x + (-y) is x - y, bit for
 * bit). */
#define SIGN_BIT ((int)0x80000000)
#define RE_SIGN SIGN_BIT, 0
#define IM_SIGN 0, SIGN_BIT
#if PTY_LANES == 16
#define FLIP_RE ((lanes_i){RE_SIGN, RE_SIGN, RE_SIGN, RE_SIGN, RE_SIGN, RE_SIGN, RE_SIGN, RE_SIGN})
#define FLIP_IM ((lanes_i){IM_SIGN, IM_SIGN, IM_SIGN, IM_SIGN, IM_SIGN, IM_SIGN, IM_SIGN, IM_SIGN})
#else
#define FLIP_RE ((lanes_i){RE_SIGN, RE_SIGN, RE_SIGN, RE_SIGN})
#define FLIP_IM ((lanes_i){IM_SIGN, IM_SIGN, IM_SIGN, IM_SIGN})
#endif
#define CMUL(are, aim, b, bsw) ((are) * (b) + (lanes_f)((lanes_i)((aim) * (bsw)) ^ FLIP_RE))
#define CMUL_CONJ(are, aim, b, bsw) ((are) * (b) + (lanes_f)((lanes_i)((aim) * (bsw)) ^ FLIP_IM))

/* The power over modes, sum_k |x_k|^2 in mode order, of the vector's pixels of
 * x (mode k at k*stride), each in both of its pixel's lanes. */
static inline ALWAYS_INLINE void power_at(const pty_cf *x, int n_modes, size_t stride, lanes_f *sum)
{
    lanes_f s = {0};
    for (int k = 0; k < n_modes; k++) {
        lanes_f v;
        __builtin_memcpy(&v, x + (size_t)k * stride, sizeof v);
        const lanes_f sq = v * v;
        s += sq + SWAP_PAIRS(sq);
    }
    *sum = s;
}

/* acc raised to the largest power over modes, sum_k |x_k|^2 (in mode
 * order, as block_power sums), of the n pixels of x, mode k at k*stride.
 * The pixels stay interleaved: re^2 + im^2 lies in both of a pixel's lanes
 * after one swap and add (the same bits as pty_cabs2: the sum of two
 * floats does not depend on their order), which is all a maximum needs;
 * splitting re and im apart first cost two permutes a vector. */
static inline ALWAYS_INLINE void max_power(const pty_cf *x, int n, int n_modes, size_t stride, max_acc *acc)
{
    enum { PIXELS = PTY_LANES / 2 };
    int i = 0;
    for (; i + MAX_ACCS * PIXELS <= n; i += MAX_ACCS * PIXELS)
        for (int a = 0; a < MAX_ACCS; a++) {
            lanes_f sum;
            power_at(x + i + a * PIXELS, n_modes, stride, &sum);
            raise_max(&acc->v[a], &sum);
        }
    for (; i + PIXELS <= n; i += PIXELS) {
        lanes_f sum;
        power_at(x + i, n_modes, stride, &sum);
        raise_max(&acc->v[0], &sum);
    }
    for (; i < n; i++) {
        float sum = 0.0f;
        for (int k = 0; k < n_modes; k++) sum += pty_cabs2(x[(size_t)k * stride + i]);
        raise_max_1(acc, sum);
    }
}

/* The probe's power over the block of nb pixels at b0 (sum over modes in
 * mode order), written to power unless NULL; mx raised to its maximum. */
static inline ALWAYS_INLINE void block_power(int b0, int nb, int n_modes, size_t stride, const pty_cf *probe,
                                             float *power, max_acc *mx)
{
    float sum[PTY_ROW_BLOCK];
    clear(sum, nb);
    for (int k = 0; k < n_modes; k++) {
        const pty_cf *restrict p = probe + (size_t)k * stride + b0;
        for (int i = 0; i < nb; i++) sum[i] += pty_cabs2(p[i]);
    }
    if (power)
        for (int i = 0; i < nb; i++) power[b0 + i] = sum[i];
    max_lanes(sum, nb, mx);
}

PTY_VECTOR_CLONES float COPY(pty_rows_probe_power)(int n, int n_modes, size_t stride, const pty_cf *probe, float *power)
{
    max_acc mx;
    max_start(&mx, 0.0f);
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) block_power(b0, block_len(n, b0), n_modes, stride, probe, power, &mx);
    return max_to_float(&mx);
}

PTY_VECTOR_CLONES float COPY(pty_rows_add_steps)(int n, int n_modes, size_t stride, pty_cf *probe,
                                                 const pty_cf *sums, int n_sums, size_t sum_stride, float *power)
{
    max_acc mx;
    max_start(&mx, 0.0f);
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        for (int k = 0; k < n_modes; k++) {
            float *restrict p = (float *)(probe + (size_t)k * stride + b0);
            for (int w = 0; w < n_sums; w++) {
                const float *restrict s = (const float *)(sums + (size_t)w * sum_stride + (size_t)k * stride + b0);
                for (int i = 0; i < 2 * nb; i++) p[i] += s[i];
            }
        }
        /* the block is still in cache; the map of powers only where it is
           wanted, the maximum alone from the pixels as they lie */
        if (power) block_power(b0, nb, n_modes, stride, probe, power, &mx);
        else max_power(probe + b0, nb, n_modes, stride, &mx);
    }
    return max_to_float(&mx);
}

/* The object's rows are fetched for writing as the exit waves read them,
 * PTY_CLAIM_AHEAD rows ahead.  The update that follows writes them, and
 * where another worker wrote a line last (the windows of consecutive sets
 * overlap) a plain read brings it shared, and the write then waits a
 * second time to own it.  Measured, ptycho bench --rows 20 --cols 20
 * --frame 64 --threads 2, three interleaved pairs of 60 iterations: 7.4-7.9
 * ms an iteration without, 7.0-7.3 with (1, 4 and 8 rows ahead within
 * noise of 2; the whole window at the start, 7.7-8.0).  PREFETCHW is
 * x86's; where the CPU lacks it (cpuid), nothing is fetched. */
#define PTY_CLAIM_AHEAD 2
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
static int has_prefetchw;
__attribute__((constructor)) static void detect_prefetchw(void)
{
    unsigned a, b, c, d;
    has_prefetchw = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8));
}
static inline ALWAYS_INLINE void claim_row(const pty_cf *row, int m)
{
    if (!has_prefetchw) return;
    const char *bytes = (const char *)row;
    for (size_t i = 0; i < (size_t)m * sizeof *row; i += 64) __asm__ volatile("prefetchw %0" ::"m"(bytes[i]));
}
#else
static inline void claim_row(const pty_cf *row, int m) { (void)row, (void)m; }
#endif

PTY_VECTOR_CLONES void COPY(pty_rows_exit_waves)(int nr, int m, int n_modes, size_t stride, const pty_cf *obj,
                                                 size_t obj_w, const pty_cf *probe, pty_cf *psi, float *obj_max)
{
    max_acc om;
    max_start(&om, obj_max ? *obj_max : 0.0f);
    for (int r = 0; r < PTY_CLAIM_AHEAD && r < nr; r++) claim_row(obj + (size_t)r * obj_w, m);
    for (int r = 0; r < nr; r++) {
        const pty_cf *restrict o = obj + (size_t)r * obj_w;
        if (r + PTY_CLAIM_AHEAD < nr) claim_row(o + PTY_CLAIM_AHEAD * obj_w, m);
        for (int k = 0; k < n_modes; k++) {
            const pty_cf *restrict p = probe + (size_t)k * stride + (size_t)r * m;
            pty_cf *restrict out = psi + (size_t)k * stride + (size_t)r * m;
            for (int i = 0; i < m; i++) out[i] = pty_cmul(p[i], o[i]);
        }
        if (!obj_max) continue;
        max_power(o, m, 1, 0, &om);
    }
    if (obj_max) *obj_max = max_to_float(&om);
}

/* The modulus constraint's sum over modes of |Psi_k|^2 at the nb pixels
 * of far (mode k at k*stride), written to model: PTY_LANES pixels a step from
 * two vectors of each mode, their squares' re and im lanes gathered apart
 * with two shuffles and added (pty_cabs2's sum), the modes in order. */
static inline ALWAYS_INLINE void model_power(int nb, int n_modes, size_t stride, const pty_cf *far, float *model)
{
    int i = 0;
    for (; i + PTY_LANES <= nb; i += PTY_LANES) {
        lanes_f sum = {0};
        for (int k = 0; k < n_modes; k++) {
            lanes_f v0, v1;
            const pty_cf *x = far + (size_t)k * stride + i;
            __builtin_memcpy(&v0, x, sizeof v0);
            __builtin_memcpy(&v1, x + PTY_LANES / 2, sizeof v1);
            const lanes_f s0 = v0 * v0, s1 = v1 * v1;
            sum += EVENS(s0, s1) + ODDS(s0, s1);
        }
        __builtin_memcpy(model + i, &sum, sizeof sum);
    }
    for (; i < nb; i++) {
        float sum = 0.0f;
        for (int k = 0; k < n_modes; k++) sum += pty_cabs2(far[(size_t)k * stride + i]);
        model[i] = sum;
    }
}

/* Each mode's far field at the nb pixels times the pixel's factor: PTY_LANES
 * pixels a step, each factor shuffled into its pixel's re and im lanes
 * once for all modes. */
static inline ALWAYS_INLINE void apply_factors(int nb, int n_modes, size_t stride, const float *factor, pty_cf *far)
{
    int i = 0;
    for (; i + PTY_LANES <= nb; i += PTY_LANES) {
        lanes_f f;
        __builtin_memcpy(&f, factor + i, sizeof f);
        const lanes_f f0 = LOW_TWICE(f), f1 = HIGH_TWICE(f);
        for (int k = 0; k < n_modes; k++) {
            lanes_f v0, v1;
            pty_cf *x = far + (size_t)k * stride + i;
            __builtin_memcpy(&v0, x, sizeof v0);
            __builtin_memcpy(&v1, x + PTY_LANES / 2, sizeof v1);
            v0 *= f0;
            v1 *= f1;
            __builtin_memcpy(x, &v0, sizeof v0);
            __builtin_memcpy(x + PTY_LANES / 2, &v1, sizeof v1);
        }
    }
    for (; i < nb; i++)
        for (int k = 0; k < n_modes; k++) {
            pty_cf *x = far + (size_t)k * stride + i;
            x->re *= factor[i];
            x->im *= factor[i];
        }
}

/* Each pixel's Fourier error term and modulus factor (pty_pixel.h's) from
 * its amplitude a and model power.  In the 8-lane copies gcc's
 * vectorisation of the loop over arrays (its vector square root; written
 * lane by lane in vector code it became scalar and xmm roots).  For
 * AVX-512 gcc 12 moved the compares' masks through general registers
 * (tests/bench_rows 64 1: 0.91 ns a pixel against AVX2's 0.70), so that
 * copy is vector code, its square root AVX-512's (correctly rounded, as
 * sqrtf), its selects bit masks: the same values. */
#ifdef PTY_ROWS_AVX512
#include <immintrin.h>
#define SELECT(mask, a, b) ((lanes_f)(((lanes_i)(a) & (mask)) | ((lanes_i)(b) & ~(mask))))
#endif
static inline ALWAYS_INLINE void factors(int nb, const float *restrict a, const float *restrict model,
                                         float *restrict term, float *restrict factor)
{
    int i = 0;
#ifdef PTY_ROWS_AVX512
    const lanes_f zero = {0}, one = zero + 1.0f;
    for (; i + PTY_LANES <= nb; i += PTY_LANES) {
        lanes_f va, vm;
        __builtin_memcpy(&va, a + i, sizeof va);
        __builtin_memcpy(&vm, model + i, sizeof vm);
        const lanes_f root = (lanes_f)_mm512_sqrt_ps((__m512)vm), d = root - va;
        const lanes_i masked = va < 0.0f;
        /* pty_modulus_factor and pty_fourier_error_term */
        const lanes_f f = SELECT(vm > 1e-30f, va / root, SELECT(va > 0.0f, one, zero));
        const lanes_f vf = SELECT(masked, one, f), vt = SELECT(masked, zero, d * d);
        __builtin_memcpy(factor + i, &vf, sizeof vf);
        __builtin_memcpy(term + i, &vt, sizeof vt);
    }
#endif
    for (; i < nb; i++) {
        term[i] = pty_fourier_error_term(a[i], model[i]);
        factor[i] = pty_modulus_factor(a[i], model[i]);
    }
}

/* The modes' power, factors() and the factors applied, a block at a time.
 * tests/bench_rows 64 1 and 64 5 (AVX2 copy): with gcc's loops throughout,
 * 0.84-0.88 ns a pixel with 1 mode, 0.48 a pixel and mode with 5; with
 * the shuffles written out, 0.73 and 0.42. */
PTY_VECTOR_CLONES double COPY(pty_rows_project)(int n, int n_modes, size_t stride, const float *amp, pty_cf *far)
{
    double err = 0.0;
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        const float *restrict a = amp + b0;
        float model[PTY_ROW_BLOCK], term[PTY_ROW_BLOCK], factor[PTY_ROW_BLOCK];
        model_power(nb, n_modes, stride, far + b0, model);
        factors(nb, a, model, term, factor);
        err += sum_of(term, nb);
        apply_factors(nb, n_modes, stride, factor, far + b0);
    }
    return err;
}

/* What the update does with the probe steps: none (no probe step), add
 * them to probe_out, or write them there fresh (probe_out holds nothing
 * yet: 0 + step, the bits of adding to zeros, without reading it). */
enum { STEPS_NONE = 0, STEPS_ADD = 1, STEPS_FRESH = 2 };

/* The update's reference loops, pty_pixel.h's operations pixel by pixel,
 * for a row's last pixels (update_4 does PTY_LANES / 2 at a time, the
 * same operations in the same order).  Delta is used where it is made.
 * per_pixel (an obj_step map) and steps are constants where they are
 * called, so each copy is a loop without branches. */
static inline ALWAYS_INLINE void update_pixels_1(int i0, int n, pty_cf *restrict o, const pty_cf *restrict p,
                                                 const pty_cf *restrict f, float inv_n,
                                                 const float *restrict obj_step, float step, float probe_step,
                                                 pty_cf *restrict out, const int per_pixel, const int steps)
{
    for (int i = i0; i < n; i++) {
        const pty_cf old = o[i];
        const pty_cf d = pty_exit_delta(f[i], pty_cmul(p[i], old), inv_n);
        const pty_cf c = pty_cmul_conj(p[i], d);
        const float st = per_pixel ? obj_step[i] : step;
        o[i].re = old.re + st * c.re;
        o[i].im = old.im + st * c.im;
        if (steps != STEPS_NONE) {
            const pty_cf q = pty_cmul_conj(old, d);
            out[i].re = (steps == STEPS_FRESH ? 0.0f : out[i].re) + probe_step * q.re;
            out[i].im = (steps == STEPS_FRESH ? 0.0f : out[i].im) + probe_step * q.im;
        }
    }
}

/* Several modes: each mode's Delta_k gives its share of the object's sum
 * (from 0, in mode order) and its probe step conj(O) Delta_k, from the
 * object as it was, which changes after the mode loop. */
static inline ALWAYS_INLINE void update_pixels_k(int i0, int n, int n_modes, size_t stride, pty_cf *restrict o,
                                                 const pty_cf *probe, const pty_cf *far, float inv_n,
                                                 const float *restrict obj_step, float step, float probe_step,
                                                 pty_cf *probe_out, const int per_pixel, const int steps)
{
    for (int i = i0; i < n; i++) {
        pty_cf num = pty_cf_make(0.0f, 0.0f);
        for (int k = 0; k < n_modes; k++) {
            const size_t at = (size_t)k * stride + i;
            const pty_cf d = pty_exit_delta(far[at], pty_cmul(probe[at], o[i]), inv_n);
            const pty_cf c = pty_cmul_conj(probe[at], d);
            num.re += c.re;
            num.im += c.im;
            if (steps != STEPS_NONE) {
                const pty_cf q = pty_cmul_conj(o[i], d);
                pty_cf *out = probe_out + at;
                out->re = (steps == STEPS_FRESH ? 0.0f : out->re) + probe_step * q.re;
                out->im = (steps == STEPS_FRESH ? 0.0f : out->im) + probe_step * q.im;
            }
        }
        const float st = per_pixel ? obj_step[i] : step;
        o[i].re += st * num.re;
        o[i].im += st * num.im;
    }
}

/* The update of the PTY_LANES / 2 pixels at i (four; eight in the AVX-512
 * copy), in one vector of each of o and each mode's p, f and out, written
 * out with the shuffles a complex product
 * needs: update_pixels_1's operations (n_modes 1) or update_pixels_k's,
 * in the same order; the object's shuffles made once for all modes.
 * Unless acc is NULL, raised to the new probe's power there (max_power's
 * sum) in the same pass.  tests/bench_rows 64 1 and
 * 64 5 (ns a pixel and mode, gcc's vectorisation of the pixel loops, with
 * the maximum in a pass of its own after each row -> this): into a lane's
 * sum 1.04 -> 0.83 (5 modes 1.10 -> 0.95); into the probe with its
 * maximum 1.60 -> 1.13 (1.35 -> 0.99). */
static inline ALWAYS_INLINE void update_4(int i, int n_modes, size_t stride, pty_cf *o, const pty_cf *p,
                                          const pty_cf *f, float inv_n, const float *obj_step, float step,
                                          float probe_step, pty_cf *out, lanes_i *acc, const int per_pixel,
                                          const int steps)
{
    lanes_f vo;
    __builtin_memcpy(&vo, o + i, sizeof vo);
    const lanes_f osw = SWAP_PAIRS(vo), ore = RE_BOTH(vo), oim = IM_BOTH(vo);
    lanes_f num = {0}, power = {0};
    for (int k = 0; k < n_modes; k++) {
        const size_t at = (size_t)k * stride + i;
        lanes_f vp, vf;
        __builtin_memcpy(&vp, p + at, sizeof vp);
        __builtin_memcpy(&vf, f + at, sizeof vf);
        const lanes_f pre = RE_BOTH(vp), pim = IM_BOTH(vp);
        /* pty_cmul(p, o), pty_exit_delta, pty_cmul_conj(p, d) */
        const lanes_f po = CMUL(pre, pim, vo, osw);
        const lanes_f d = vf * inv_n - po, sd = SWAP_PAIRS(d);
        const lanes_f c = CMUL_CONJ(pre, pim, d, sd);
        if (n_modes == 1) num = c; /* one mode's step is c itself: 0 + c would make -0 +0 */
        else num += c;
        if (steps == STEPS_NONE) continue;
        /* pty_cmul_conj(old, d) */
        const lanes_f q = CMUL_CONJ(ore, oim, d, sd);
        lanes_f base = {0};
        if (steps == STEPS_ADD) __builtin_memcpy(&base, out + at, sizeof base);
        const lanes_f pn = base + probe_step * q;
        __builtin_memcpy(out + at, &pn, sizeof pn);
        if (acc) {
            const lanes_f sq = pn * pn;
            power += sq + SWAP_PAIRS(sq);
        }
    }
    lanes_f on;
    if (per_pixel) {
        lanes_f st = {0}; /* the pixels' steps, each in its pixel's two lanes */
        __builtin_memcpy(&st, obj_step + i, PTY_LANES / 2 * sizeof(float));
        on = vo + LOW_TWICE(st) * num;
    } else {
        on = vo + step * num; /* (a vector of steps filled lane by lane was rebuilt at every step) */
    }
    __builtin_memcpy(o + i, &on, sizeof on);
    if (acc) raise_max(acc, &power);
}

/* A row of the update: a vector's pixels a step, the rest one by one; unless mx
 * is NULL (a constant where it is called), raised to the new probe's
 * maximum power over the row (steps != STEPS_NONE). */
static inline ALWAYS_INLINE void update_row(int m, int n_modes, size_t stride, pty_cf *o, const pty_cf *p,
                                            const pty_cf *f, float inv_n, const float *obj_step, float step,
                                            float probe_step, pty_cf *out, max_acc *mx, const int per_pixel,
                                            const int steps)
{
    enum { PIXELS = PTY_LANES / 2 };
    /* two maxima, not one chain, in locals that stay in registers */
    lanes_i a0, a1;
    if (mx) a0 = mx->v[0], a1 = mx->v[1];
    int i = 0;
#define STEP(at, acc)                                                                                                  \
    update_4(at, n_modes, stride, o, p, f, inv_n, obj_step, step, probe_step, out, mx ? acc : NULL, per_pixel, steps)
    for (; i + 2 * PIXELS <= m; i += 2 * PIXELS) {
        STEP(i, &a0);
        STEP(i + PIXELS, &a1);
    }
    for (; i + PIXELS <= m; i += PIXELS) STEP(i, &a0);
#undef STEP
    if (n_modes == 1) update_pixels_1(i, m, o, p, f, inv_n, obj_step, step, probe_step, out, per_pixel, steps);
    else update_pixels_k(i, m, n_modes, stride, o, p, f, inv_n, obj_step, step, probe_step, out, per_pixel, steps);
    if (!mx) return;
    mx->v[0] = a0, mx->v[1] = a1;
    max_power(out + i, m - i, n_modes, stride, mx);
}

/* update_row with per_pixel and steps as constants, and one mode as a
 * constant too: one loop without branches for each case. */
#define UPDATE_CASES(call, per_pixel, steps)                                                                           \
    do {                                                                                                               \
        if (per_pixel) {                                                                                               \
            if ((steps) == STEPS_FRESH) call(1, STEPS_FRESH);                                                          \
            else if ((steps) == STEPS_ADD) call(1, STEPS_ADD);                                                         \
            else call(1, STEPS_NONE);                                                                                  \
        } else {                                                                                                       \
            if ((steps) == STEPS_FRESH) call(0, STEPS_FRESH);                                                          \
            else if ((steps) == STEPS_ADD) call(0, STEPS_ADD);                                                         \
            else call(0, STEPS_NONE);                                                                                  \
        }                                                                                                              \
    } while (0)

PTY_VECTOR_CLONES void COPY(pty_rows_update)(int nr, int m, int n_modes, size_t stride, pty_cf *obj, size_t obj_w,
                                             const pty_cf *probe, const pty_cf *far, float inv_n,
                                             const float *obj_step, float step, float probe_step, pty_cf *probe_out,
                                             int probe_out_fresh, float *probe_out_max)
{
    const int steps = probe_step == 0.0f ? STEPS_NONE : probe_out_fresh ? STEPS_FRESH : STEPS_ADD;
    max_acc mx;
    max_start(&mx, probe_out_max ? *probe_out_max : 0.0f);
    /* the new probe's maximum in the update's pass, while the row is in
       cache; a probe without steps is the one it was, but its maximum is
       asked for all the same */
    max_acc *fused = probe_out_max && steps != STEPS_NONE ? &mx : NULL;
    for (int r = 0; r < nr; r++) {
        const size_t at = (size_t)r * m;
        pty_cf *o = obj + (size_t)r * obj_w, *out = probe_out + at;
        const float *st = obj_step ? obj_step + at : NULL;
        const pty_cf *p = probe + at, *f = far + at;
#define ROW(k, acc, pp, s) update_row(m, k, stride, o, p, f, inv_n, st, step, probe_step, out, acc, pp, s)
#define ROW_1_MAX(pp, s) ROW(1, &mx, pp, s)
#define ROW_1(pp, s) ROW(1, NULL, pp, s)
#define ROW_K_MAX(pp, s) ROW(n_modes, &mx, pp, s)
#define ROW_K(pp, s) ROW(n_modes, NULL, pp, s)
        if (n_modes == 1) {
            if (fused) UPDATE_CASES(ROW_1_MAX, st != NULL, steps);
            else UPDATE_CASES(ROW_1, st != NULL, steps);
        } else {
            if (fused) UPDATE_CASES(ROW_K_MAX, st != NULL, steps);
            else UPDATE_CASES(ROW_K, st != NULL, steps);
        }
#undef ROW
#undef ROW_1_MAX
#undef ROW_1
#undef ROW_K_MAX
#undef ROW_K
        if (probe_out_max && !fused) max_power(out, m, n_modes, stride, &mx);
    }
    if (probe_out_max) *probe_out_max = max_to_float(&mx);
}

PTY_VECTOR_CLONES void COPY(pty_rows_position_terms)(int n, int n_modes, size_t stride, const pty_cf *obj,
                                                     size_t obj_w, int up, int down, const pty_cf *probe,
                                                     const pty_cf *back, float inv_n, const float *weight,
                                                     double sums[4])
{
    /* pty_position_terms, per pixel, with the mode loop outside and the weight applied once to
       the sum over modes; derivatives by pty_central_difference's rule */
    const pty_cf *above = up ? obj - obj_w : obj, *below = down ? obj + obj_w : obj;
    const float row_scale = up && down ? 0.5f : 1.0f;
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        float drr[PTY_ROW_BLOCK], dri[PTY_ROW_BLOCK], dcr[PTY_ROW_BLOCK], dci[PTY_ROW_BLOCK];
        for (int i = 0; i < nb; i++) {
            drr[i] = row_scale * (below[b0 + i].re - above[b0 + i].re);
            dri[i] = row_scale * (below[b0 + i].im - above[b0 + i].im);
        }
        /* central inside the run (a loop without branches, which vectorises), one-sided at its ends */
        const int lo = b0 == 0, hi = b0 + nb == n ? nb - 1 : nb;
        const pty_cf *restrict ob = obj + b0;
        for (int i = lo; i < hi; i++) {
            dcr[i] = 0.5f * (ob[i + 1].re - ob[i - 1].re);
            dci[i] = 0.5f * (ob[i + 1].im - ob[i - 1].im);
        }
        const int ends[2] = {lo ? 0 : -1, hi < nb ? nb - 1 : -1}; /* the run's first and last pixel */
        for (int e = 0; e < 2; e++) {
            const int i = ends[e], g = b0 + i;
            if (i < 0) continue;
            const pty_cf d = pty_central_difference(obj[g > 0 ? g - 1 : g], obj[g < n - 1 ? g + 1 : g], 0);
            dcr[i] = d.re;
            dci[i] = d.im;
        }
        float t0[PTY_ROW_BLOCK], t1[PTY_ROW_BLOCK], t2[PTY_ROW_BLOCK], t3[PTY_ROW_BLOCK];
        clear(t0, nb);
        clear(t1, nb);
        clear(t2, nb);
        clear(t3, nb);
        for (int k = 0; k < n_modes; k++) {
            const pty_cf *restrict p = probe + (size_t)k * stride + b0;
            const pty_cf *restrict f = back + (size_t)k * stride + b0;
            for (int i = 0; i < nb; i++) {
                const pty_cf d = pty_exit_delta(f[i], pty_cmul(p[i], ob[i]), inv_n);
                const pty_cf gr = pty_cmul(p[i], pty_cf_make(drr[i], dri[i]));
                const pty_cf gc = pty_cmul(p[i], pty_cf_make(dcr[i], dci[i]));
                t0[i] += gr.re * d.re + gr.im * d.im;
                t1[i] += pty_cabs2(gr);
                t2[i] += gc.re * d.re + gc.im * d.im;
                t3[i] += pty_cabs2(gc);
            }
        }
        const float *restrict w = weight + b0;
        for (int i = 0; i < nb; i++) {
            t0[i] *= w[i];
            t1[i] *= w[i];
            t2[i] *= w[i];
            t3[i] *= w[i];
        }
        sums[0] += sum_of(t0, nb);
        sums[1] += sum_of(t1, nb);
        sums[2] += sum_of(t2, nb);
        sums[3] += sum_of(t3, nb);
    }
}

PTY_VECTOR_CLONES void COPY(pty_rows_shift_row)(int m, int n_modes, size_t stride, pty_cf a, const pty_cf *col,
                                                const pty_cf *x, pty_cf *out, int accumulate)
{
    pty_cf f[PTY_ROW_BLOCK];
    for (int b0 = 0; b0 < m; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(m, b0);
        const pty_cf *restrict c = col + b0;
        for (int i = 0; i < nb; i++) f[i] = pty_cmul(a, c[i]);
        for (int k = 0; k < n_modes; k++) {
            /* x may be out: each pixel is read before it is written */
            const pty_cf *y = x + (size_t)k * stride + b0;
            pty_cf *z = out + (size_t)k * stride + b0;
            if (accumulate)
                for (int i = 0; i < nb; i++) {
                    const pty_cf v = pty_cmul(y[i], f[i]);
                    z[i] = pty_cf_make(z[i].re + v.re, z[i].im + v.im);
                }
            else
                for (int i = 0; i < nb; i++) z[i] = pty_cmul(y[i], f[i]);
        }
    }
}

/* out = s in, or out += s in, over n floats. */
static inline ALWAYS_INLINE void scale_floats(int n, const float *restrict in, float s, float *restrict out,
                                              int accumulate)
{
    if (accumulate)
        for (int i = 0; i < n; i++) out[i] += in[i] * s;
    else
        for (int i = 0; i < n; i++) out[i] = in[i] * s;
}

PTY_VECTOR_CLONES void COPY(pty_rows_scaled)(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst,
                                             int accumulate)
{
    for (int k = 0; k < n_modes; k++)
        scale_floats(2 * n, (const float *)(y + (size_t)k * stride), s, (float *)(dst + (size_t)k * stride), accumulate);
}

PTY_VECTOR_CLONES float COPY(pty_rows_scaled_power)(int n, int n_modes, size_t stride, const pty_cf *y, float s,
                                                    pty_cf *dst, float *power)
{
    max_acc mx;
    max_start(&mx, 0.0f);
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        for (int k = 0; k < n_modes; k++) {
            const size_t at = (size_t)k * stride + b0;
            scale_floats(2 * nb, (const float *)(y + at), s, (float *)(dst + at), 0);
        }
        block_power(b0, nb, n_modes, stride, dst, power, &mx);
    }
    return max_to_float(&mx);
}
