/* register.c - sub-pixel registration by the up-sampled cross-correlation
 * peak (Guizar-Sicairos, Thurman & Fienup 2008), Fourier shifts, phase ramps.
 *
 * One peak finder serves both registration (peak of the inverse DFT of the
 * cross-power spectrum) and ramp estimation (peak of the forward DFT of an
 * image): a 2x zero-padded FFT for the coarse peak, then a small
 * matrix-multiply DFT around it, then a parabola through the three best
 * samples per axis.  FFTs are single precision (fftwf); sums and kernels are
 * double (pty_cd, numeric.h). */
#include "register.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "numeric.h"
#include "pty_error.h"

static const double pi = 3.14159265358979323846;

/* Bins of an n-point DFT in FFT order: bin j stands for frequency (or, for
 * ifftshift-ed spatial data, coordinate) sigma(j) in [-n/2, n/2). */
static int signed_index(int j, int n) { return j < (n + 1) / 2 ? j : j - n; }

/* exp(+2 pi i sigma(j) s / n).  With `sym`, the Nyquist bin of an even n
 * (which is both +n/2 and -n/2) gets the mean of the two, cos(pi s): that
 * keeps |CC| symmetric about the true shift, so the peak is not biased. */
static pty_cd kernel(int j, int n, double s, int sym)
{
    if (sym && 2 * j == n) return pty_cd_make(cos(pi * s), 0.0);
    return pty_cd_expi(2.0 * pi * signed_index(j, n) * s / n);
}

static int check_size(int h, int w, int upsample)
{
    PTY_CHECK(h >= 1 && w >= 1 && (double)h * w <= 1e9, PTY_ERR_ARG,
              "registration: image size %d x %d must be positive (and at most 1e9 pixels)", h, w);
    PTY_CHECK(upsample >= 1 && upsample <= 1000, PTY_ERR_ARG, "registration: upsample %d must be in [1, 1000]",
              upsample);
    return PTY_OK;
}

/* Everything one image size and up-sampling need: the forward FFT of the
 * images, the 2x up-sampled inverse FFT of the coarse peak, and the
 * matrix-multiply DFT's kernels and sums. */
struct pty_registrar {
    int h, w, upsample, n; /* n = 2 ceil(0.75 upsample) + 1 refinement points per axis */
    fftwf_plan forward, coarse;
    pty_cf *a, *b, *y, *big;
    pty_cd *kr, *kc, *tmp, *cc, *ec;
};

void pty_registrar_destroy(pty_registrar *r)
{
    if (!r) return;
    if (r->forward) fftwf_destroy_plan(r->forward);
    if (r->coarse) fftwf_destroy_plan(r->coarse);
    fftwf_free(r->a);
    fftwf_free(r->b);
    fftwf_free(r->big);
    free(r->y);
    free(r->kr);
    free(r->kc);
    free(r->tmp);
    free(r->cc);
    free(r->ec);
    free(r);
}

int pty_registrar_create(int h, int w, int upsample, pty_registrar **out)
{
    PTY_CHECK(out, PTY_ERR_ARG, "pty_registrar_create: NULL argument");
    *out = NULL;
    PTY_TRY(check_size(h, w, upsample));
    pty_registrar *r = calloc(1, sizeof *r);
    PTY_CHECK(r, PTY_ERR_NOMEM, "registration: cannot allocate a registrar");
    const size_t n_img = (size_t)h * w;
    r->h = h;
    r->w = w;
    r->upsample = upsample;
    r->n = 2 * (int)ceil(0.75 * upsample) + 1;
    const size_t n = (size_t)r->n;
    r->a = (pty_cf *)fftwf_alloc_complex(n_img);
    r->b = (pty_cf *)fftwf_alloc_complex(n_img);
    r->big = (pty_cf *)fftwf_alloc_complex(4 * n_img);
    r->y = malloc(sizeof *r->y * n_img);
    r->kr = malloc(sizeof *r->kr * n * (size_t)h);
    r->kc = malloc(sizeof *r->kc * n * (size_t)w);
    r->tmp = malloc(sizeof *r->tmp * n * (size_t)w);
    r->cc = malloc(sizeof *r->cc * n * n);
    r->ec = malloc(sizeof *r->ec * (size_t)w);
    if (!r->a || !r->b || !r->big || !r->y || !r->kr || !r->kc || !r->tmp || !r->cc || !r->ec) {
        pty_registrar_destroy(r);
        return pty_error_set(PTY_ERR_NOMEM, "registration: cannot allocate the buffers of a %d x %d image", h, w);
    }
    /* FFTW_ESTIMATE plans leave the arrays untouched; b is aligned like a, so the plan runs on it too */
    r->forward = fftwf_plan_dft_2d(h, w, (fftwf_complex *)r->a, (fftwf_complex *)r->a, FFTW_FORWARD, FFTW_ESTIMATE);
    r->coarse = fftwf_plan_dft_2d(2 * h, 2 * w, (fftwf_complex *)r->big, (fftwf_complex *)r->big, FFTW_BACKWARD,
                                  FFTW_ESTIMATE);
    if (!r->forward || !r->coarse) {
        pty_registrar_destroy(r);
        return pty_error_set(PTY_ERR_FFT, "registration: cannot plan the FFTs of a %d x %d image", h, w);
    }
    *out = r;
    return PTY_OK;
}

/* Coarse maximum of |C(s)|, C(s) = sum_j y[j] kernel(j, s), on the half-pixel
 * grid: embed the bins by frequency into a 2h x 2w array, inverse FFT. */
static void coarse_peak(pty_registrar *r, const pty_cf *y, int sym, double s[2])
{
    const int h = r->h, w = r->w, H = 2 * h, W = 2 * w;
    pty_cf *z = r->big;
    memset(z, 0, sizeof(pty_cf) * (size_t)H * W);
    for (int jr = 0; jr < h; jr++) {
        int sr = signed_index(jr, h), split_r = sym && 2 * jr == h;
        int rows[2] = {(sr + H) % H, (-sr + H) % H};
        for (int jc = 0; jc < w; jc++) {
            int sc = signed_index(jc, w), split_c = sym && 2 * jc == w;
            int cols[2] = {(sc + W) % W, (-sc + W) % W};
            float f = (split_r ? 0.5f : 1.0f) * (split_c ? 0.5f : 1.0f);
            pty_cf v = y[(size_t)jr * w + jc];
            for (int a = 0; a <= split_r; a++)
                for (int b = 0; b <= split_c; b++) {
                    z[(size_t)rows[a] * W + cols[b]].re += f * v.re;
                    z[(size_t)rows[a] * W + cols[b]].im += f * v.im;
                }
        }
    }
    fftwf_execute(r->coarse);
    size_t best = 0;
    float best_v = -1.0f;
    for (size_t i = 0; i < (size_t)H * W; i++) {
        float v = pty_cabs2(z[i]);
        if (v > best_v) {
            best_v = v;
            best = i;
        }
    }
    int i = (int)(best / W), j = (int)(best % W);
    s[0] = (i < h ? i : i - H) / 2.0;
    s[1] = (j < w ? j : j - W) / 2.0;
}

/* C(s) at one point, O(h w). */
static pty_cd dft_at(const pty_cf *y, int h, int w, int sym, const double s[2], pty_cd *ec)
{
    for (int jc = 0; jc < w; jc++) ec[jc] = kernel(jc, w, s[1], sym);
    pty_cd total = pty_cd_make(0.0, 0.0);
    for (int jr = 0; jr < h; jr++) {
        pty_cd row = pty_cd_make(0.0, 0.0);
        const pty_cf *yr = y + (size_t)jr * w;
        for (int jc = 0; jc < w; jc++) row = pty_cd_add(row, pty_cd_mul(ec[jc], pty_cd_of(yr[jc])));
        total = pty_cd_add(total, pty_cd_mul(kernel(jr, h, s[0], sym), row));
    }
    return total;
}

/* Vertex of the parabola through f(-1), f(0), f(+1), in units of the step;
 * 0 when the samples do not bracket a maximum. */
static double parabola_offset(double fm, double f0, double fp)
{
    double denom = fm - 2.0 * f0 + fp;
    if (!(denom < 0.0)) return 0.0;
    double off = 0.5 * (fm - fp) / denom;
    return off > 0.5 ? 0.5 : (off < -0.5 ? -0.5 : off);
}

/* Refine s (from coarse_peak) on a grid of 1/upsample pixel spanning +-0.75
 * pixel by a matrix-multiply DFT: C[a][b] = sum_jr Kr[a][jr] (sum_jc
 * y[jr][jc] Kc[b][jc]), O(n h w) for n = 2 ceil(0.75 upsample) + 1 points per
 * axis instead of a full up-sampled FFT.  *value = C at the refined s. */
static void refine_peak(pty_registrar *r, const pty_cf *y, int sym, double s[2], pty_cd *value)
{
    const int h = r->h, w = r->w, upsample = r->upsample, n = r->n, m = (n - 1) / 2;
    double step = 1.0 / upsample;
    double s0[2] = {round(s[0] * upsample) * step, round(s[1] * upsample) * step};
    pty_cd *kr = r->kr, *kc = r->kc, *tmp = r->tmp, *cc = r->cc, *ec = r->ec;
    memset(tmp, 0, sizeof *tmp * (size_t)n * w);
    for (int a = 0; a < n; a++) {
        for (int j = 0; j < h; j++) kr[(size_t)a * h + j] = kernel(j, h, s0[0] + (a - m) * step, sym);
        for (int j = 0; j < w; j++) kc[(size_t)a * w + j] = kernel(j, w, s0[1] + (a - m) * step, sym);
    }
    for (int a = 0; a < n; a++) {
        pty_cd *t = tmp + (size_t)a * w;
        for (int jr = 0; jr < h; jr++) {
            pty_cd k = kr[(size_t)a * h + jr];
            const pty_cf *yr = y + (size_t)jr * w;
            for (int jc = 0; jc < w; jc++) t[jc] = pty_cd_add(t[jc], pty_cd_mul(k, pty_cd_of(yr[jc])));
        }
    }
    int ba = 0, bb = 0;
    double best = -1.0;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            pty_cd sum = pty_cd_make(0.0, 0.0);
            const pty_cd *t = tmp + (size_t)a * w, *k = kc + (size_t)b * w;
            for (int jc = 0; jc < w; jc++) sum = pty_cd_add(sum, pty_cd_mul(t[jc], k[jc]));
            cc[(size_t)a * n + b] = sum;
            if (pty_cd_abs(sum) > best) {
                best = pty_cd_abs(sum);
                ba = a;
                bb = b;
            }
        }
    /* Near its maximum |C| is smooth and, for a true match, symmetric, so a
       parabola recovers the peak far inside the 1/upsample grid. */
    double oa = 0.0, ob = 0.0;
    if (ba > 0 && ba < n - 1)
        oa = parabola_offset(pty_cd_abs(cc[(size_t)(ba - 1) * n + bb]), best, pty_cd_abs(cc[(size_t)(ba + 1) * n + bb]));
    if (bb > 0 && bb < n - 1)
        ob = parabola_offset(pty_cd_abs(cc[(size_t)ba * n + bb - 1]), best, pty_cd_abs(cc[(size_t)ba * n + bb + 1]));
    s[0] = s0[0] + (ba - m + oa) * step;
    s[1] = s0[1] + (bb - m + ob) * step;
    *value = dft_at(y, h, w, sym, s, ec);
}

/* Sum of |z|^2 in double; -1 when a value is not finite. */
static double energy(const pty_cf *z, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++) e += (double)z[i].re * z[i].re + (double)z[i].im * z[i].im;
    return isfinite(e) ? e : -1.0;
}

int pty_registrar_register(pty_registrar *r, const pty_cf *ref, const pty_cf *mov, pty_registration *out)
{
    PTY_CHECK(r && ref && mov && out, PTY_ERR_ARG, "pty_register: NULL argument");
    const int h = r->h, w = r->w;
    size_t n = (size_t)h * w;
    double e_ref = energy(ref, n), e_mov = energy(mov, n);
    PTY_CHECK(e_ref > 0.0 && e_mov > 0.0, PTY_ERR_DATA,
              "registration: %s image has %s (energy %g and %g)", e_ref > 0.0 ? "moving" : "reference",
              (e_ref < 0.0 || e_mov < 0.0) ? "non-finite values" : "no power", e_ref, e_mov);
    pty_cf *a = r->a, *b = r->b;
    memcpy(a, ref, sizeof(pty_cf) * n);
    memcpy(b, mov, sizeof(pty_cf) * n);
    fftwf_execute_dft(r->forward, (fftwf_complex *)a, (fftwf_complex *)a);
    fftwf_execute_dft(r->forward, (fftwf_complex *)b, (fftwf_complex *)b);
    /* X = conj(F ref) F mov / N: its inverse DFT is CC(s) = sum_r conj(ref(r)) mov(r + s),
       which peaks at s = shift when mov(r) = ref(r - shift). */
    pty_cf *x = a;
    for (size_t i = 0; i < n; i++) {
        double re = ((double)a[i].re * b[i].re + (double)a[i].im * b[i].im) / (double)n;
        double im = ((double)a[i].re * b[i].im - (double)a[i].im * b[i].re) / (double)n;
        x[i] = pty_cf_make((float)re, (float)im);
    }
    double s[2];
    pty_cd cc;
    coarse_peak(r, x, 1, s);
    refine_peak(r, x, 1, s, &cc);
    double q = 1.0 - (cc.re * cc.re + cc.im * cc.im) / (e_ref * e_mov);
    out->shift[0] = s[0];
    out->shift[1] = s[1];
    out->error = sqrt(q > 0.0 ? q : 0.0);
    out->phase = atan2(cc.im, cc.re);
    return PTY_OK;
}

int pty_register(const pty_cf *ref, const pty_cf *mov, int h, int w, int upsample, pty_registration *out)
{
    PTY_CHECK(ref && mov && out, PTY_ERR_ARG, "pty_register: NULL argument");
    pty_registrar *r;
    PTY_TRY(pty_registrar_create(h, w, upsample, &r));
    int rc = pty_registrar_register(r, ref, mov, out);
    pty_registrar_destroy(r);
    return rc;
}

void pty_shift_spectrum(pty_cf *spec, int h, int w, double dr, double dc, pty_cd *er, pty_cd *ec)
{
    /* img'(r) = img(r - d)  <=>  F' = F exp(-2 pi i f d); kernel() has the + sign. */
    for (int j = 0; j < h; j++) {
        pty_cd k = kernel(j, h, -dr, 1);
        er[j] = pty_cd_make(k.re / ((double)h * w), k.im / ((double)h * w));
    }
    for (int j = 0; j < w; j++) ec[j] = kernel(j, w, -dc, 1);
    for (int jr = 0; jr < h; jr++)
        for (int jc = 0; jc < w; jc++) {
            pty_cf *p = spec + (size_t)jr * w + jc;
            pty_cd v = pty_cd_mul(pty_cd_mul(pty_cd_of(*p), er[jr]), ec[jc]);
            *p = pty_cf_make((float)v.re, (float)v.im);
        }
}

int pty_shift_image(pty_cf *img, int h, int w, double dr, double dc)
{
    PTY_CHECK(img != NULL, PTY_ERR_ARG, "pty_shift_image: NULL image");
    PTY_TRY(check_size(h, w, 1));
    PTY_CHECK(isfinite(dr) && isfinite(dc), PTY_ERR_ARG, "pty_shift_image: shift (%g, %g) is not finite", dr, dc);
    if (dr == 0.0 && dc == 0.0) return PTY_OK;
    int rc = PTY_OK;
    fftwf_complex *z = (fftwf_complex *)img;
    /* FFTW_ESTIMATE plans leave the array untouched, so planning in place is safe. */
    fftwf_plan fwd = fftwf_plan_dft_2d(h, w, z, z, FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_plan inv = fftwf_plan_dft_2d(h, w, z, z, FFTW_BACKWARD, FFTW_ESTIMATE);
    pty_cd *er = malloc(sizeof *er * (size_t)h), *ec = malloc(sizeof *ec * (size_t)w);
    if (!fwd || !inv) {
        rc = pty_error_set(PTY_ERR_FFT, "pty_shift_image: cannot plan a %d x %d FFT", h, w);
        goto done;
    }
    if (!er || !ec) {
        rc = pty_error_set(PTY_ERR_NOMEM, "pty_shift_image: out of memory");
        goto done;
    }
    fftwf_execute(fwd);
    pty_shift_spectrum(img, h, w, dr, dc, er, ec);
    fftwf_execute(inv);
done:
    if (fwd) fftwf_destroy_plan(fwd);
    if (inv) fftwf_destroy_plan(inv);
    free(er);
    free(ec);
    return rc;
}

int pty_registrar_find_ramp(pty_registrar *r, const pty_cf *img, double k[2], double value[2])
{
    PTY_CHECK(r && img && k, PTY_ERR_ARG, "pty_find_ramp: NULL argument");
    const int h = r->h, w = r->w;
    size_t n = (size_t)h * w;
    PTY_CHECK(energy(img, n) > 0.0, PTY_ERR_DATA, "ramp estimate: the image has no power or non-finite values");
    pty_cf *y = r->y;
    pty_cd *ec = r->ec;
    /* y = ifftshift(conj(img)): bin j holds pixel sigma(j) + n/2, so the peak finder's
       |sum_j y[j] exp(2 pi i sigma(j) s / n)| is |sum_r img(r) exp(-2 pi i r s / n)|. */
    for (int jr = 0; jr < h; jr++)
        for (int jc = 0; jc < w; jc++) {
            pty_cf v = img[(size_t)((jr + h / 2) % h) * w + (jc + w / 2) % w];
            y[(size_t)jr * w + jc] = pty_cf_make(v.re, -v.im);
        }
    double s[2];
    pty_cd c;
    coarse_peak(r, y, 0, s);
    refine_peak(r, y, 0, s, &c);
    k[0] = 2.0 * pi * s[0] / h;
    k[1] = 2.0 * pi * s[1] / w;
    if (value) {
        pty_cd total = pty_cd_make(0.0, 0.0);
        for (int jc = 0; jc < w; jc++) ec[jc] = pty_cd_expi(-k[1] * jc);
        for (int jr = 0; jr < h; jr++) {
            pty_cd row = pty_cd_make(0.0, 0.0);
            const pty_cf *ir = img + (size_t)jr * w;
            for (int jc = 0; jc < w; jc++) row = pty_cd_add(row, pty_cd_mul(ec[jc], pty_cd_of(ir[jc])));
            total = pty_cd_add(total, pty_cd_mul(pty_cd_expi(-k[0] * jr), row));
        }
        value[0] = total.re;
        value[1] = total.im;
    }
    return PTY_OK;
}

int pty_find_ramp(const pty_cf *img, int h, int w, int upsample, double k[2], double value[2])
{
    PTY_CHECK(img && k, PTY_ERR_ARG, "pty_find_ramp: NULL argument");
    pty_registrar *r;
    PTY_TRY(pty_registrar_create(h, w, upsample, &r));
    int rc = pty_registrar_find_ramp(r, img, k, value);
    pty_registrar_destroy(r);
    return rc;
}
