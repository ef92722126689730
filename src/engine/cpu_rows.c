/* cpu_rows.c - pty_pixel.h's per-pixel math over runs of a row, mode loops
 * outside (see cpu_rows.h).  A run is cut into blocks of PTY_ROW_BLOCK
 * pixels whose per-pixel sums over modes wait in small arrays on the stack:
 * the pixel loops then have no inner loop and vectorise.  Before this, with
 * the per-pixel functions called pixel by pixel, the three loops took 62 %
 * of a batched pass at 64x64 and FFTW 11 % (perf, 2 threads). */
#include "cpu_rows.h"

#define PTY_ROW_BLOCK 128

/* Pixels of the block starting at b0 of a run of n. */
static inline int block_len(int n, int b0) { return n - b0 < PTY_ROW_BLOCK ? n - b0 : PTY_ROW_BLOCK; }

/* fmaxf is a libm call unless NaNs are ruled out; this is one instruction
 * and, with the running maximum as b, also skips NaNs */
static inline float max_or_keep(float a, float b) { return a > b ? a : b; }

/* A block's sums start from zero.  A loop, not "= {0}": after the
 * memset that becomes, gcc 12 no longer vectorises the selects of the
 * projection (pty_modulus_factor). */
static inline void clear(float *x)
{
    for (int i = 0; i < PTY_ROW_BLOCK; i++) x[i] = 0.0f;
}

/* Reductions in PTY_LANES independent lanes: C forbids the compiler to
 * reorder a float reduction, which is what vectorising it takes, and allows
 * us to. */
#define PTY_LANES 8

static float max_of(const float *x, int n, float init)
{
    float lane[PTY_LANES];
    for (int l = 0; l < PTY_LANES; l++) lane[l] = init;
    int i = 0;
    for (; i + PTY_LANES <= n; i += PTY_LANES)
        for (int l = 0; l < PTY_LANES; l++) lane[l] = max_or_keep(x[i + l], lane[l]);
    float mx = init;
    for (; i < n; i++) mx = max_or_keep(x[i], mx);
    for (int l = 0; l < PTY_LANES; l++) mx = max_or_keep(lane[l], mx);
    return mx;
}

static float sum_of(const float *x, int n)
{
    float lane[PTY_LANES] = {0};
    int i = 0;
    for (; i + PTY_LANES <= n; i += PTY_LANES)
        for (int l = 0; l < PTY_LANES; l++) lane[l] += x[i + l];
    float sum = 0.0f;
    for (; i < n; i++) sum += x[i];
    for (int l = 0; l < PTY_LANES; l++) sum += lane[l];
    return sum;
}

void pty_rows_exit_waves(int n, int n_modes, size_t stride, const pty_cf *obj, const pty_cf *probe, pty_cf *psi,
                         float *obj_max, float *probe_max)
{
    float om = *obj_max, pm = *probe_max;
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        const pty_cf *restrict o = obj + b0;
        float power[PTY_ROW_BLOCK];
        clear(power);
        for (int k = 0; k < n_modes; k++) {
            const pty_cf *restrict p = probe + (size_t)k * stride + b0;
            pty_cf *restrict out = psi + (size_t)k * stride + b0;
            for (int i = 0; i < nb; i++) {
                out[i] = pty_cmul(p[i], o[i]);
                power[i] += pty_cabs2(p[i]);
            }
        }
        float obj_power[PTY_ROW_BLOCK];
        for (int i = 0; i < nb; i++) obj_power[i] = pty_cabs2(o[i]);
        om = max_of(obj_power, nb, om);
        pm = max_of(power, nb, pm);
    }
    *obj_max = om;
    *probe_max = pm;
}

double pty_rows_project(int n, int n_modes, size_t stride, const float *amp, pty_cf *far)
{
    double err = 0.0;
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        const float *restrict a = amp + b0;
        float model[PTY_ROW_BLOCK];
        clear(model);
        for (int k = 0; k < n_modes; k++) {
            const pty_cf *restrict f = far + (size_t)k * stride + b0;
            for (int i = 0; i < nb; i++) model[i] += pty_cabs2(f[i]);
        }
        float term[PTY_ROW_BLOCK], factor[PTY_ROW_BLOCK];
        for (int i = 0; i < nb; i++) {
            term[i] = pty_fourier_error_term(a[i], model[i]);
            factor[i] = pty_modulus_factor(a[i], model[i]);
        }
        err += sum_of(term, nb);
        for (int k = 0; k < n_modes; k++) {
            pty_cf *restrict f = far + (size_t)k * stride + b0;
            for (int i = 0; i < nb; i++) {
                f[i].re *= factor[i];
                f[i].im *= factor[i];
            }
        }
    }
    return err;
}

void pty_rows_update(int n, int n_modes, size_t stride, pty_cf *obj, const pty_cf *probe, const pty_cf *psi,
                     pty_cf *far, float inv_n, float alpha, float rpie, float probe_max, float probe_step,
                     pty_cf *probe_out)
{
    for (int b0 = 0; b0 < n; b0 += PTY_ROW_BLOCK) {
        const int nb = block_len(n, b0);
        float num_re[PTY_ROW_BLOCK], num_im[PTY_ROW_BLOCK], power[PTY_ROW_BLOCK];
        clear(num_re);
        clear(num_im);
        clear(power);
        for (int k = 0; k < n_modes; k++) {
            const pty_cf *restrict p = probe + (size_t)k * stride + b0;
            const pty_cf *restrict s = psi + (size_t)k * stride + b0;
            pty_cf *restrict d = far + (size_t)k * stride + b0;
            for (int i = 0; i < nb; i++) {
                d[i] = pty_exit_delta(d[i], s[i], inv_n);
                pty_cf c = pty_cmul_conj(p[i], d[i]);
                num_re[i] += c.re;
                num_im[i] += c.im;
                power[i] += pty_cabs2(p[i]);
            }
        }
        pty_cf old[PTY_ROW_BLOCK];
        pty_cf *restrict o = obj + b0;
        for (int i = 0; i < nb; i++) {
            const float step = pty_object_step(alpha, rpie, power[i], probe_max);
            old[i].re = o[i].re;
            old[i].im = o[i].im;
            o[i].re = old[i].re + step * num_re[i];
            o[i].im = old[i].im + step * num_im[i];
        }
        if (probe_step == 0.0f) continue;
        for (int k = 0; k < n_modes; k++) {
            const pty_cf *restrict d = far + (size_t)k * stride + b0;
            pty_cf *restrict out = probe_out + (size_t)k * stride + b0;
            for (int i = 0; i < nb; i++) {
                pty_cf c = pty_cmul_conj(old[i], d[i]);
                out[i].re += probe_step * c.re;
                out[i].im += probe_step * c.im;
            }
        }
    }
}

/* Central differences, one-sided at the object's edge (the caller says which neighbours exist). */
static inline pty_cf difference(pty_cf before, pty_cf after, int both)
{
    const float s = both ? 0.5f : 1.0f;
    return pty_cf_make(s * (after.re - before.re), s * (after.im - before.im));
}

void pty_rows_position_terms(int n, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w, int up, int down,
                             int left, int right, const pty_cf *probe, const pty_cf *psi, const pty_cf *back,
                             float inv_n, const float *weight, double sums[4])
{
    for (int i = 0; i < n; i++) {
        const pty_cf o = obj[i];
        const int has_l = i > 0 || left, has_r = i < n - 1 || right;
        const pty_cf do_r = difference(up ? obj[(ptrdiff_t)i - (ptrdiff_t)obj_w] : o, down ? obj[i + obj_w] : o, up && down);
        const pty_cf do_c = difference(has_l ? obj[i - 1] : o, has_r ? obj[i + 1] : o, has_l && has_r);
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        pty_position_terms(do_r, do_c, probe + i, back + i, psi + i, stride, n_modes, inv_n, weight[i], t);
        for (int a = 0; a < 4; a++) sums[a] += t[a];
    }
}
