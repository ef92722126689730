/* frc.c - Fourier ring correlation (frc.h). */
#include "frc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "pty_error.h"

static double tukey(int i, int n)
{
    const double edge = PTY_FRC_TAPER * (n - 1);
    const double x = i < (n - 1) / 2.0 ? i : n - 1 - i;
    return x >= edge || edge <= 0 ? 1.0 : 0.5 * (1.0 - cos(3.14159265358979323846 * x / edge));
}

void pty_frc_free(pty_frc_curve *c)
{
    if (!c) return;
    free(c->frc);
    free(c->half_bit);
    free(c->n_pixels);
    memset(c, 0, sizeof *c);
}

/* First fall of curve below threshold t (per ring) from ring 1 on, as a
 * frequency interpolated between the two rings around it; Nyquist if none. */
static double crossing(const pty_frc_curve *c, const double *t, double fixed)
{
    for (int k = 1; k < c->n_rings; k++) {
        const double tk = t ? t[k] : fixed, tp = t ? t[k - 1] : fixed;
        if (c->frc[k] < tk) {
            const double above = c->frc[k - 1] - tp, below = c->frc[k] - tk;
            const double f = above > 0 ? above / (above - below) : 0.0;
            return (k - 1 + f) / c->size;
        }
    }
    return 0.5;
}

int pty_frc(const pty_cf *a, const pty_cf *b, int h, int w, pty_frc_curve *out)
{
    PTY_CHECK(a && b && out, PTY_ERR_ARG, "frc: NULL argument");
    memset(out, 0, sizeof *out);
    PTY_CHECK(h >= 8 && w >= 8, PTY_ERR_ARG, "frc: the images are %d x %d; at least 8 x 8 are needed", h, w);
    int n = h > w ? h : w;
    n += n % 2;
    const size_t nn = (size_t)n * n;
    const int rings = n / 2 + 1;
    fftwf_complex *fa = fftwf_alloc_complex(nn), *fb = fftwf_alloc_complex(nn);
    /* per ring: sum A^ conj(B^) (re, im), sum |A^|^2, sum |B^|^2 */
    double *sums = calloc(4 * (size_t)rings, sizeof *sums);
    out->frc = calloc((size_t)rings, sizeof *out->frc);
    out->half_bit = calloc((size_t)rings, sizeof *out->half_bit);
    out->n_pixels = calloc((size_t)rings, sizeof *out->n_pixels);
    fftwf_plan plan = NULL;
    int rc = PTY_OK;
    if (!fa || !fb || !sums || !out->frc || !out->half_bit || !out->n_pixels) {
        rc = pty_error_set(PTY_ERR_NOMEM, "frc: cannot allocate two %d x %d spectra", n, n);
        goto done;
    }
    plan = fftwf_plan_dft_2d(n, n, fa, fa, FFTW_FORWARD, FFTW_ESTIMATE);
    if (!plan) {
        rc = pty_error_set(PTY_ERR_FFT, "frc: cannot plan a %d x %d FFT", n, n);
        goto done;
    }
    memset(fa, 0, nn * sizeof *fa);
    memset(fb, 0, nn * sizeof *fb);
    /* the mean of each image is left in: ring 0 holds it, and the crossings start at ring 1 */
    double ea = 0, eb = 0;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            const double t = tukey(i, h) * tukey(j, w);
            const pty_cf va = a[(size_t)i * w + j], vb = b[(size_t)i * w + j];
            fa[(size_t)i * n + j][0] = (float)(t * va.re), fa[(size_t)i * n + j][1] = (float)(t * va.im);
            fb[(size_t)i * n + j][0] = (float)(t * vb.re), fb[(size_t)i * n + j][1] = (float)(t * vb.im);
            ea += pty_cabs2(va);
            eb += pty_cabs2(vb);
        }
    if (!isfinite(ea) || !isfinite(eb) || !(ea > 0) || !(eb > 0)) {
        rc = pty_error_set(PTY_ERR_DATA, "frc: %s", !isfinite(ea) || !isfinite(eb) ? "an image has non-finite values"
                                                                                   : "an image has no power");
        goto done;
    }
    fftwf_execute_dft(plan, fa, fa);
    fftwf_execute_dft(plan, fb, fb);
    for (int u = 0; u < n; u++)
        for (int v = 0; v < n; v++) {
            const int fu = u <= n / 2 ? u : u - n, fv = v <= n / 2 ? v : v - n;
            const int k = (int)lround(sqrt((double)fu * fu + (double)fv * fv));
            if (k >= rings) continue; /* the corners beyond Nyquist on both axes */
            const float *x = fa[(size_t)u * n + v], *y = fb[(size_t)u * n + v];
            double *s = sums + 4 * (size_t)k;
            s[0] += (double)x[0] * y[0] + (double)x[1] * y[1];
            s[1] += (double)x[1] * y[0] - (double)x[0] * y[1];
            s[2] += (double)x[0] * x[0] + (double)x[1] * x[1];
            s[3] += (double)y[0] * y[0] + (double)y[1] * y[1];
            out->n_pixels[k]++;
        }
    out->n_rings = rings;
    out->size = n;
    for (int k = 0; k < rings; k++) {
        const double *s = sums + 4 * (size_t)k;
        const double mag = hypot(s[0], s[1]), den = sqrt(s[2] * s[3]);
        out->frc[k] = den > 0 ? fmin(1.0, mag / den) : 0.0;
        const double r = sqrt((double)(out->n_pixels[k] > 0 ? out->n_pixels[k] : 1));
        out->half_bit[k] = (0.2071 + 1.9102 / r) / (1.2071 + 0.9102 / r);
    }
    out->cross_half_bit = crossing(out, out->half_bit, 0);
    out->cross_one_seventh = crossing(out, NULL, 1.0 / 7.0);
done:
    if (plan) fftwf_destroy_plan(plan);
    fftwf_free(fa);
    fftwf_free(fb);
    free(sums);
    if (rc != PTY_OK) pty_frc_free(out);
    return rc;
}
