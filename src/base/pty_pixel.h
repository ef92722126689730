/* pty_pixel.h - the per-pixel math of ePIE with incoherent probe modes.
 *
 * Written once, called by the CPU backend's loops and by the CUDA kernels
 * (PTY_HD expands to __host__ __device__ under nvcc), so the CPU tests check
 * the arithmetic the GPU runs.  Must compile as C11 and as C++17: no
 * _Complex, no VLAs, no compound literals.
 *
 * Conventions (DESIGN.md §2):
 *   forward FFT unscaled, inverse FFT scaled by 1/N, so I = |F psi|^2;
 *   frames hold measured amplitudes sqrt(I) in FFT order (zero frequency at
 *   pixel [0,0]); an amplitude < 0 marks a pixel the modulus constraint must
 *   leave alone (detector mask, NaN, negative counts). */
#ifndef PTY_PIXEL_H
#define PTY_PIXEL_H

#include <math.h>
#include <stddef.h>

#if defined(__CUDACC__)
#define PTY_HD __host__ __device__
#else
#define PTY_HD
#endif

#if defined(__cplusplus)
#define PTY_RESTRICT __restrict__
#else
#define PTY_RESTRICT restrict
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Single-precision complex, bit-compatible with fftwf_complex and cufftComplex. */
typedef struct pty_cf {
    float re, im;
} pty_cf;

/* Amplitude value that marks an unconstrained (masked) detector pixel. */
#define PTY_MASKED (-1.0f)

static inline PTY_HD pty_cf pty_cf_make(float re, float im)
{
    pty_cf z;
    z.re = re;
    z.im = im;
    return z;
}

static inline PTY_HD pty_cf pty_cmul(pty_cf a, pty_cf b)
{
    return pty_cf_make(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

/* conj(a) * b */
static inline PTY_HD pty_cf pty_cmul_conj(pty_cf a, pty_cf b)
{
    return pty_cf_make(a.re * b.re + a.im * b.im, a.re * b.im - a.im * b.re);
}

static inline PTY_HD float pty_cabs2(pty_cf a) { return a.re * a.re + a.im * a.im; }

/* Modulus projection factor for one detector pixel (DESIGN.md §2):
 *   Psi'_k = Psi_k * sqrt(I) / sqrt(sum_k |Psi_k|^2)
 * `amp` is sqrt(I) (PTY_MASKED: leave the pixel unchanged, factor 1) and
 * `model` is sum_k |Psi_k|^2.  Where the model has no power the phase is
 * undefined, and zeroing is the least-squares answer for amp = 0; for amp > 0
 * the pixel is left as is so it can grow on a later visit. */
static inline PTY_HD float pty_modulus_factor(float amp, float model)
{
    /* the quotient first and selects after, not branches, so that CPU
       loops over pixels vectorise */
    const float q = amp / sqrtf(model);
    const float f = model > 1e-30f ? q : (amp > 0.0f ? 1.0f : 0.0f);
    return amp < 0.0f ? 1.0f : f;
}

/* Contribution of one pixel to the Fourier error numerator
 * sum (|Psi| - sqrt(I))^2; masked pixels contribute nothing. */
static inline PTY_HD float pty_fourier_error_term(float amp, float model)
{
    const float d = sqrtf(model) - amp;
    return amp < 0.0f ? 0.0f : d * d;
}

/* Exit-wave change after the projection: Delta = F^-1[Psi'] - psi, where
 * `back` is the unscaled inverse FFT and inv_n = 1/N supplies the scaling. */
static inline PTY_HD pty_cf pty_exit_delta(pty_cf back, pty_cf psi, float inv_n)
{
    return pty_cf_make(back.re * inv_n - psi.re, back.im * inv_n - psi.im);
}

/* Step of the object update at one pixel, the factor multiplying
 * sum_k conj(P_k) Delta_k.  ePIE (rpie < 0): alpha / max_r sum_k|P_k|^2.
 * rPIE (0 < rpie <= 1, Maiden, Johnson & Li 2017, eq. 6; 0 would divide by
 * the probe's intensity, 0 outside it):
 *   alpha / ((1 - rpie) sum_k|P_k(r)|^2 + rpie max_r sum_k|P_k|^2). */
static inline PTY_HD float pty_object_step(float alpha, float rpie, float probe_power, float probe_power_max)
{
    if (rpie < 0.0f) return alpha / probe_power_max;
    return alpha / ((1.0f - rpie) * probe_power + rpie * probe_power_max);
}

/* Object half of the joint ePIE update (Maiden & Rodenburg 2009, eq. 6;
 * mixed states: Thibault & Menzel 2013):
 *   O += obj_step * sum_k conj(P_k) Delta_k
 * with the probe as it was before this step.  Returns the old object value,
 * which the probe half needs.  `probe` and `delta` hold mode k at k*stride. */
static inline PTY_HD pty_cf pty_update_object_pixel(pty_cf *PTY_RESTRICT obj, const pty_cf *PTY_RESTRICT probe,
                                                    const pty_cf *PTY_RESTRICT delta, size_t stride, int n_modes,
                                                    float alpha, float rpie, float probe_power_max)
{
    pty_cf o_old = *obj;
    float pp = 0.0f;
    float num_re = 0.0f, num_im = 0.0f;
    for (int k = 0; k < n_modes; k++) {
        pty_cf p = probe[(size_t)k * stride];
        pty_cf d = delta[(size_t)k * stride];
        pty_cf c = pty_cmul_conj(p, d);
        num_re += c.re;
        num_im += c.im;
        pp += pty_cabs2(p);
    }
    float s = pty_object_step(alpha, rpie, pp, probe_power_max);
    obj->re = o_old.re + s * num_re;
    obj->im = o_old.im + s * num_im;
    return o_old;
}

/* How far a set's combined probe step may go: this many times the set's
 * average step. */
#define PTY_SET_RELAXATION 2.0f

/* The probe step of one position of a set of set_size positions whose
 * windows do not overlap (1 in sequential order): beta / max|O|^2 (eq. 7),
 * times min(1, PTY_SET_RELAXATION / set_size).  A set's steps are all taken
 * from one probe, and each alone would correct most of its error, so their
 * plain sum overshoots by up to the set's size: sets of 13-16 windows of
 * 64^2 (48 x 48 raster, beta 1) diverged at the first probe update.  Their
 * average (the set's least-squares probe correction) is stable but slow:
 * the error's drop came 7 iterations after the sequential order's on the
 * 16 x 16 case.  Twice the average (ePIE's relaxation range is (0, 2]; for
 * sets of two it is the plain sum) keeps both: on the 48 x 48 case Fourier
 * error 6.4e-5 at iteration 60 against sequential 8.1e-5, on the 16 x 16
 * case 8.4e-4 at iteration 25 against 7.7e-4, on the Siemens star 1.45e-2
 * at iteration 100 against 1.48e-2.  0 when the step is off (beta 0) or
 * undefined. */
static inline PTY_HD float pty_probe_step(float beta, float obj_max, int set_size)
{
    if (!(beta > 0.0f && obj_max > 0.0f)) return 0.0f;
    const float share = (float)set_size <= PTY_SET_RELAXATION ? 1.0f : PTY_SET_RELAXATION / (float)set_size;
    return beta * share / obj_max;
}

/* Probe half (eq. 7): out_k += probe_step * conj(O_old) Delta_k, with
 * probe_step from pty_probe_step.  `out` is the probe itself (sequential
 * order) or a set's accumulator (batched order: positions whose windows do
 * not overlap update the object at once and combine their probe steps). */
static inline PTY_HD void pty_probe_increment(pty_cf *PTY_RESTRICT out, pty_cf o_old,
                                              const pty_cf *PTY_RESTRICT delta, size_t stride, int n_modes,
                                              float probe_step)
{
    for (int k = 0; k < n_modes; k++) {
        pty_cf d = delta[(size_t)k * stride];
        pty_cf c = pty_cmul_conj(o_old, d);
        out[(size_t)k * stride].re += probe_step * c.re;
        out[(size_t)k * stride].im += probe_step * c.im;
    }
}

/* Both halves in place, sequential order: the object sees the probe before
 * this step and the probe sees the object before it.  probe_step = 0 skips
 * the probe. */
static inline PTY_HD void pty_update_pixel(pty_cf *PTY_RESTRICT obj, pty_cf *PTY_RESTRICT probe,
                                           const pty_cf *PTY_RESTRICT delta, size_t stride, int n_modes,
                                           float alpha, float rpie, float probe_power_max,
                                           float probe_step)
{
    pty_cf o_old = pty_update_object_pixel(obj, probe, delta, stride, n_modes, alpha, rpie, probe_power_max);
    if (probe_step != 0.0f) pty_probe_increment(probe, o_old, delta, stride, n_modes, probe_step);
}

/* Sub-pixel positions: a probe
 * window whose corner falls f pixels past the whole pixel it is rounded to
 * sees the probe moved by f, P(r - f), applied to the probe's spectrum (FFT
 * order) as a phase factor per axis:
 *     P_f^(q) = P^(q) e^{-2 pi i s(q_r) f_r / m} e^{-2 pi i s(q_c) f_c / m},
 * s(q) = q for q < m/2, q - m above, and -m/2 at an even m's Nyquist bin.
 * One-sided at Nyquist (not the real-preserving cos(pi f) of register.c),
 * so every factor has modulus 1: the shift is unitary, its adjoint is the
 * shift by -f, and the probe update moved back by -f loses nothing.  Both
 * backends take the factors from here (one axis's m of them per position,
 * the product per pixel).  Measured against a probe shifted on a 4x
 * canvas (tests/indep/shift_accuracy.py, 64 px window, f uniform in
 * +-0.5): this periodic shift is exact to 2.5e-6 for a compact Gaussian
 * (FWHM 16 px) and 9e-4 at FWHM 24 px; a beam with 10 % of its peak at the
 * window's edge wraps 1.3e-2 of its norm, where a Lanczos-3 kernel (not
 * unitary) errs by 6-8e-3 on every probe. */
static inline PTY_HD pty_cf pty_shift_factor(int q, int m, float f)
{
    const int s = 2 * q < m ? q : q - m;
    const float a = -6.283185307179586f * (float)s * f / (float)m;
    return pty_cf_make(cosf(a), sinf(a));
}

/* Position correction (the gradient method of Odstrcil, Menzel & Guizar-Sicairos 2018, Opt.
 * Express 26, 3108, as in PtychoShelves).  A window whose exact corner is c sees the exit waves
 * psi_k(r) = P_k(r - f) O(w + r), c = w + f, so moving the corner by d changes them by
 * d . grad psi_k = d_a P_k(r - f) dO/da to first order.  The move along axis a that best explains
 * the exit-wave change Delta_k the modulus constraint asked for is
 *     d_a = sum_{r,k} Re(conj(P_k dO/da) Delta_k) / sum_{r,k} |P_k dO/da|^2,
 * each axis on its own (the cross term is small where the object has structure in both).
 * Each pixel's terms count by `weight`, from the scan's illumination I of its object pixel (the
 * sum of all windows' |P|^2 there): I / (I + max I), so dimly lit pixels count less.  Where few
 * positions have seen the object it is unreliable (at the scan's edge, next to the unit
 * transmission it started from) and, counted fully, pulled the edge positions inward.
 * Independent simulator (tests/cli/recon_positions.sh), 1.5 px RMS errors, mean removed only,
 * 200 iterations: unweighted the scan shrank by 1 % (0.42 px RMS off, NRMSE 0.0198); with this
 * weight 0.154 px, NRMSE 0.0110; on ptycho's Siemens star 0.88 px, NRMSE 0.037 (unweighted 0.90,
 * 0.046).  Weights I / max I or its square did as well on the first (0.150 px) but let positions
 * on the star's unresolved centre run off (1.13 px, NRMSE 0.148); sqrt(I / max I): 0.181, 0.88.
 * One pixel's share of the four sums, added to t[0..3] = (num_row, den_row, num_col, den_col):
 * `probe` is the probe as this position sees it (moved by f), `back` the unscaled back-propagated
 * far field and `psi` the exit waves (Delta = pty_exit_delta), do_r and do_c the object's
 * derivatives at the pixel (the caller's finite differences of the object before its update). */
static inline PTY_HD void pty_position_terms(pty_cf do_r, pty_cf do_c, const pty_cf *PTY_RESTRICT probe,
                                             const pty_cf *PTY_RESTRICT back, const pty_cf *PTY_RESTRICT psi,
                                             size_t stride, int n_modes, float inv_n, float weight, float t[4])
{
    for (int k = 0; k < n_modes; k++) {
        const pty_cf p = probe[(size_t)k * stride];
        const pty_cf d = pty_exit_delta(back[(size_t)k * stride], psi[(size_t)k * stride], inv_n);
        const pty_cf gr = pty_cmul(p, do_r), gc = pty_cmul(p, do_c);
        t[0] += weight * (gr.re * d.re + gr.im * d.im);
        t[1] += weight * pty_cabs2(gr);
        t[2] += weight * (gc.re * d.re + gc.im * d.im);
        t[3] += weight * pty_cabs2(gc);
    }
}

/* The weight of one object pixel's position terms from the scan's illumination I there and its
 * maximum over the object (see pty_position_terms). */
static inline PTY_HD float pty_illumination_weight(float illumination, float max_illumination)
{
    return max_illumination > 0.0f ? illumination / (illumination + max_illumination) : 0.0f;
}

/* The object's derivative along one axis at a pixel from its neighbours before and after it:
 * the central difference where both exist (`both`), else the one-sided one (the caller passes the
 * pixel itself for the missing neighbour). */
static inline PTY_HD pty_cf pty_central_difference(pty_cf before, pty_cf after, int both)
{
    const float s = both ? 0.5f : 1.0f;
    return pty_cf_make(s * (after.re - before.re), s * (after.im - before.im));
}

/* The corner's move along one axis from its two sums; 0 where the object is flat under the probe
 * (nothing to register against). */
static inline PTY_HD float pty_position_step(double num, double den)
{
    return den > 0.0 ? (float)(num / den) : 0.0f;
}

#ifdef __cplusplus
}
#endif
#endif /* PTY_PIXEL_H */
