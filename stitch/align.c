/* align.c - the aligner of align.h: start estimates (registration, ramp)
 * and the Gauss-Newton fit of shift, ramp and complex factor on a weighted
 * misfit, over a resampler and buffers made once per window size.
 *
 * compare.c and merge.c differ only in what they hand over: compare fits
 * everything with no weight, merge fits a taper-weighted misfit of smoothed
 * images with the ramp (and, in the synchronous mode, the shift) held.
 * Sums are double; images are single precision. */
#include "align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numeric.h"
#include "pty_error.h"

/* Step of the central differences that give dM/ds: M is a smooth
 * (Fourier-interpolated) function of s, so a small step is accurate. */
#define ALIGN_EPS 0.01
/* Doublings or halvings of one step at most. */
#define ALIGN_LINE_TRIES 8

struct pty_aligner {
    int h, w;
    pty_resampler *resampler;
    pty_registrar *registrar; /* the start estimates' registration and ramp peak */
    const pty_cf *moving; /* borrowed */
    int moving_h, moving_w;
    long long corner[2];
    int smooth, weighted;
    float *weight;   /* w */
    pty_cf *target;  /* T, smoothed with `smooth` */
    pty_cf *wtarget; /* w T */
    pty_cf *model;   /* M at the fit's current point */
    pty_cf *trial;   /* M at a trial point; w M; w T conj(M) */
    pty_cf *d[2];    /* dM/ds (row, col) */
    pty_cf *scratch; /* for smooth() */
};

int pty_aligner_create(int h, int w, int upsample, pty_aligner **out)
{
    PTY_CHECK(out != NULL, PTY_ERR_ARG, "pty_aligner_create: NULL argument");
    *out = NULL;
    pty_aligner *al = calloc(1, sizeof *al);
    PTY_CHECK(al != NULL, PTY_ERR_NOMEM, "aligner: out of memory");
    int rc = pty_resampler_create(h, w, &al->resampler);
    if (rc == PTY_OK) rc = pty_registrar_create(h, w, upsample, &al->registrar);
    if (rc != PTY_OK) {
        pty_aligner_destroy(al);
        return rc;
    }
    size_t n = (size_t)h * w;
    al->h = h;
    al->w = w;
    al->weight = malloc(sizeof *al->weight * n);
    pty_cf **bufs[] = {&al->target, &al->wtarget, &al->model, &al->trial, &al->d[0], &al->d[1], &al->scratch};
    int ok = al->weight != NULL;
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ok = (*bufs[i] = malloc(sizeof(pty_cf) * n)) && ok;
    if (!ok) {
        pty_aligner_destroy(al);
        return pty_error_set(PTY_ERR_NOMEM, "aligner: cannot allocate buffers for a %d x %d window", h, w);
    }
    *out = al;
    return PTY_OK;
}

void pty_aligner_destroy(pty_aligner *al)
{
    if (!al) return;
    pty_resampler_destroy(al->resampler);
    pty_registrar_destroy(al->registrar);
    free(al->weight);
    free(al->target);
    free(al->wtarget);
    free(al->model);
    free(al->trial);
    free(al->d[0]);
    free(al->d[1]);
    free(al->scratch);
    free(al);
}

/* Smooth z (h x w) by [1 2 1]/4 along both axes (edges clamped), response
 * cos^2(pi f) per axis: 0 at Nyquist.  merge.c fits smoothed images because
 * a Fourier shift loses the Nyquist bin and, near the mirrored edges, more:
 * the energy of B's noise under the taper dips by ~2% at half-pixel shifts,
 * which biased the least-squares shift by 0.2 px at 20% noise.  Smoothed,
 * it is flat to 1e-3, and the noise is 7x weaker. */
static void smooth(pty_cf *z, int h, int w, pty_cf *t)
{
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            pty_cf a = z[(size_t)i * w + (j > 0 ? j - 1 : 0)], b = z[(size_t)i * w + j];
            pty_cf c = z[(size_t)i * w + (j < w - 1 ? j + 1 : w - 1)];
            t[(size_t)i * w + j] = pty_cf_make(0.25f * (a.re + c.re) + 0.5f * b.re, 0.25f * (a.im + c.im) + 0.5f * b.im);
        }
    for (int i = 0; i < h; i++) {
        const pty_cf *up = t + (size_t)(i > 0 ? i - 1 : 0) * w, *mid = t + (size_t)i * w;
        const pty_cf *down = t + (size_t)(i < h - 1 ? i + 1 : h - 1) * w;
        for (int j = 0; j < w; j++)
            z[(size_t)i * w + j] = pty_cf_make(0.25f * (up[j].re + down[j].re) + 0.5f * mid[j].re,
                                               0.25f * (up[j].im + down[j].im) + 0.5f * mid[j].im);
    }
}

int pty_aligner_set_images(pty_aligner *al, const pty_align_images *im)
{
    PTY_CHECK(al && im && im->moving && im->target, PTY_ERR_ARG, "pty_aligner_set_images: NULL argument");
    PTY_CHECK(im->moving_h >= 1 && im->moving_w >= 1, PTY_ERR_ARG, "aligner: moving image %d x %d must be positive",
              im->moving_h, im->moving_w);
    size_t n = (size_t)al->h * al->w;
    al->moving = im->moving;
    al->moving_h = im->moving_h;
    al->moving_w = im->moving_w;
    al->corner[0] = im->corner[0];
    al->corner[1] = im->corner[1];
    al->smooth = im->smooth;
    al->weighted = im->weight != NULL;
    memcpy(al->target, im->target, sizeof(pty_cf) * n);
    if (al->smooth) smooth(al->target, al->h, al->w, al->scratch);
    for (size_t i = 0; i < n; i++) {
        al->weight[i] = al->weighted ? im->weight[i] : 1.0f;
        al->wtarget[i] = al->weighted ? pty_cf_make(al->weight[i] * al->target[i].re, al->weight[i] * al->target[i].im)
                                      : al->target[i];
    }
    return PTY_OK;
}

/* dst = M(.; s, k) */
static int model_into(pty_aligner *al, const double s[2], const double k[2], pty_cf *dst)
{
    PTY_CHECK(al->moving != NULL, PTY_ERR_ARG, "aligner: no images (pty_aligner_set_images)");
    const double centre[2] = {(al->h - 1) / 2.0, (al->w - 1) / 2.0};
    PTY_TRY(pty_resampler_run(al->resampler, al->moving, al->moving_h, al->moving_w, al->corner, s, k, centre, dst));
    if (al->smooth) smooth(dst, al->h, al->w, al->scratch);
    return PTY_OK;
}

int pty_aligner_model(pty_aligner *al, const double shift[2], const double k[2], const pty_cf **model)
{
    PTY_CHECK(al && shift && k && model, PTY_ERR_ARG, "pty_aligner_model: NULL argument");
    PTY_TRY(model_into(al, shift, k, al->model));
    *model = al->model;
    return PTY_OK;
}

int pty_aligner_register(pty_aligner *al, const double shift[2], const double k[2], pty_registration *reg)
{
    PTY_CHECK(al && shift && k && reg, PTY_ERR_ARG, "pty_aligner_register: NULL argument");
    PTY_TRY(model_into(al, shift, k, al->model));
    const pty_cf *mov = al->model;
    if (al->weighted) {
        for (size_t i = 0; i < (size_t)al->h * al->w; i++)
            al->trial[i] = pty_cf_make(al->weight[i] * al->model[i].re, al->weight[i] * al->model[i].im);
        mov = al->trial;
    }
    return pty_registrar_register(al->registrar, al->wtarget, mov, reg);
}

/* Add to slope[] the |p|-weighted least-squares plane through the phase of
 * p (h x w) relative to (ref_re, ref_im): phi(i, j) ≈ a + slope0 i + slope1 j,
 * phi = arg(p conj(ref)).  Used after a ramp's DFT peak has been removed,
 * when phi no longer wraps; nothing is added for a degenerate layout. */
static void phase_plane_add(const pty_cf *p, int h, int w, double ref_re, double ref_im, double slope[2])
{
    double sw = 0, si = 0, sj = 0, sii = 0, sjj = 0, sij = 0, sp = 0, sip = 0, sjp = 0;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            pty_cf v = p[(size_t)i * w + j];
            double wt = hypot(v.re, v.im);
            if (!(wt > 0.0)) continue;
            double phi = atan2(v.im * ref_re - v.re * ref_im, v.re * ref_re + v.im * ref_im);
            sw += wt, si += wt * i, sj += wt * j, sp += wt * phi;
            sii += wt * i * i, sjj += wt * j * j, sij += wt * i * j, sip += wt * i * phi, sjp += wt * j * phi;
        }
    if (!(sw > 0.0)) return;
    double mi = si / sw, mj = sj / sw, mp = sp / sw;
    double cii = sii / sw - mi * mi, cjj = sjj / sw - mj * mj, cij = sij / sw - mi * mj;
    double cip = sip / sw - mi * mp, cjp = sjp / sw - mj * mp;
    double det = cii * cjj - cij * cij;
    if (det > 1e-12 * (cii * cjj + 1e-300)) {
        slope[0] += (cip * cjj - cjp * cij) / det;
        slope[1] += (cjp * cii - cip * cij) / det;
    }
}

/* k = k1 + the plane fitted to the phase of p once k1 is removed from it
 * (in place): relative to the mean, that phase no longer wraps. */
static void refine_ramp(pty_cf *p, int h, int w, const double k1[2], double k[2])
{
    double sum_re = 0.0, sum_im = 0.0;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            pty_cf *v = p + (size_t)i * w + j;
            double a = -(k1[0] * i + k1[1] * j), c = cos(a), s = sin(a);
            double re = v->re * c - v->im * s, im = v->re * s + v->im * c;
            *v = pty_cf_make((float)re, (float)im);
            sum_re += re;
            sum_im += im;
        }
    k[0] = k1[0];
    k[1] = k1[1];
    phase_plane_add(p, h, w, sum_re, sum_im, k);
}

int pty_aligner_ramp(pty_aligner *al, const double shift[2], const double k[2], double dk[2])
{
    PTY_CHECK(al && shift && k && dk, PTY_ERR_ARG, "pty_aligner_ramp: NULL argument");
    PTY_TRY(model_into(al, shift, k, al->model));
    size_t n = (size_t)al->h * al->w;
    for (size_t i = 0; i < n; i++) al->trial[i] = pty_cmul_conj(al->model[i], al->wtarget[i]);
    double k1[2];
    PTY_TRY(pty_registrar_find_ramp(al->registrar, al->trial, k1, NULL));
    refine_ramp(al->trial, al->h, al->w, k1, dk);
    return PTY_OK;
}

/* Least-squares g = sum w conj(M) T / sum w |M|^2 of model m, and the
 * misfit sum w |T - g M|^2 it leaves (summed, not expanded, so that it
 * keeps its digits near a perfect fit). */
static void factor_of(const pty_aligner *al, const pty_cf *m, double g[2], double *misfit)
{
    size_t n = (size_t)al->h * al->w;
    double nr = 0.0, ni = 0.0, den = 0.0, err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double wt = al->weight[i];
        pty_cf mi = m[i], t = al->target[i];
        nr += wt * ((double)mi.re * t.re + (double)mi.im * t.im);
        ni += wt * ((double)mi.re * t.im - (double)mi.im * t.re);
        den += wt * ((double)mi.re * mi.re + (double)mi.im * mi.im);
    }
    g[0] = den > 0.0 ? nr / den : 0.0;
    g[1] = den > 0.0 ? ni / den : 0.0;
    for (size_t i = 0; i < n; i++) {
        pty_cf mi = m[i], t = al->target[i];
        double dr = g[0] * mi.re - g[1] * mi.im - t.re, di = g[0] * mi.im + g[1] * mi.re - t.im;
        err += al->weight[i] * (dr * dr + di * di);
    }
    *misfit = err;
}

int pty_aligner_factor(pty_aligner *al, pty_align_state *st)
{
    PTY_CHECK(al && st, PTY_ERR_ARG, "pty_aligner_factor: NULL argument");
    PTY_TRY(model_into(al, st->shift, st->ramp, al->model));
    factor_of(al, al->model, st->g, &st->misfit);
    return PTY_OK;
}

/* d[a] = dM/ds_a at (s, k) by central differences; uses trial. */
static int shift_gradient(pty_aligner *al, const double s[2], const double k[2])
{
    size_t n = (size_t)al->h * al->w;
    for (int a = 0; a < 2; a++) {
        double sp[2] = {s[0], s[1]}, sm[2] = {s[0], s[1]};
        sp[a] += ALIGN_EPS, sm[a] -= ALIGN_EPS;
        PTY_TRY(model_into(al, sp, k, al->d[a]));
        PTY_TRY(model_into(al, sm, k, al->trial));
        for (size_t i = 0; i < n; i++)
            al->d[a][i] = pty_cf_make((float)((al->d[a][i].re - al->trial[i].re) / (2 * ALIGN_EPS)),
                                      (float)((al->d[a][i].im - al->trial[i].im) / (2 * ALIGN_EPS)));
    }
    return PTY_OK;
}

/* Solve the n x n (n <= 6) normal equations a x = b, Jacobi-scaled and
 * lightly damped, so that a direction the data do not determine (a shift
 * along featureless stripes) gets 0.  a and b are overwritten. */
static void solve_damped(double a[6][6], double b[6], int n, double x[6])
{
    double s[6];
    for (int i = 0; i < n; i++) s[i] = a[i][i] > 0.0 ? 1.0 / sqrt(a[i][i]) : 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) a[i][j] *= s[i] * s[j];
        a[i][i] += 1e-9;
        b[i] *= s[i];
    }
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r][c]) > fabs(a[p][c])) p = r;
        for (int j = 0; j < n; j++) {
            double t = a[c][j];
            a[c][j] = a[p][j], a[p][j] = t;
        }
        double t = b[c];
        b[c] = b[p], b[p] = t;
        for (int r = c + 1; r < n; r++) {
            double f = a[r][c] / a[c][c];
            for (int j = c; j < n; j++) a[r][j] -= f * a[c][j];
            b[r] -= f * b[c];
        }
    }
    for (int r = n - 1; r >= 0; r--) {
        double v = b[r];
        for (int j = r + 1; j < n; j++) v -= a[r][j] * x[j];
        x[r] = v / a[r][r];
    }
    for (int i = 0; i < n; i++) x[i] *= s[i];
}

/* One Gauss-Newton step in (g, s, k), s and k only where free:
 * T - g M ≈ dg M + g (dM/ds) ds + i (p - c).dk g M.  Needs model at the
 * current point and, with fit_shift, d[] there. */
static void gauss_newton_step(const pty_aligner *al, const pty_align_fit_options *o, const double g[2], double ds[2],
                              double dk[2])
{
    int idx[6], np = 0;
    idx[np++] = 0, idx[np++] = 1;
    if (o->fit_shift) idx[np++] = 2, idx[np++] = 3;
    if (o->fit_ramp) idx[np++] = 4, idx[np++] = 5;
    double a[6][6] = {{0}}, b[6] = {0}, step[6] = {0};
    for (int i = 0; i < al->h; i++)
        for (int j = 0; j < al->w; j++) {
            size_t p = (size_t)i * al->w + j;
            double m = al->weight[p];
            if (!(m > 0.0)) continue;
            double yr = i - (al->h - 1) / 2.0, yc = j - (al->w - 1) / 2.0;
            double mr = al->model[p].re, mi = al->model[p].im;
            double gmr = g[0] * mr - g[1] * mi, gmi = g[0] * mi + g[1] * mr; /* g M */
            double jr[6] = {mr, -mi, 0, 0, -yr * gmi, -yc * gmi}, ji[6] = {mi, mr, 0, 0, yr * gmr, yc * gmr};
            if (o->fit_shift)
                for (int q = 0; q < 2; q++) {
                    pty_cf d = al->d[q][p];
                    jr[2 + q] = g[0] * d.re - g[1] * d.im;
                    ji[2 + q] = g[0] * d.im + g[1] * d.re;
                }
            double rr = al->target[p].re - gmr, ri = al->target[p].im - gmi;
            for (int u = 0; u < np; u++) {
                int pu = idx[u];
                b[u] += m * (jr[pu] * rr + ji[pu] * ri);
                for (int v = u; v < np; v++) a[u][v] += m * (jr[pu] * jr[idx[v]] + ji[pu] * ji[idx[v]]);
            }
        }
    for (int u = 0; u < np; u++)
        for (int v = 0; v < u; v++) a[u][v] = a[v][u];
    solve_damped(a, b, np, step);
    ds[0] = ds[1] = dk[0] = dk[1] = 0.0;
    for (int u = 0; u < np; u++) {
        if (idx[u] == 2 || idx[u] == 3) ds[idx[u] - 2] = step[u];
        if (idx[u] == 4 || idx[u] == 5) dk[idx[u] - 4] = step[u];
    }
}

int pty_align_admissible(const pty_align_fit_options *o, const double s[2])
{
    return s[0] >= o->shift_min[0] && s[0] <= o->shift_max[0] && s[1] >= o->shift_min[1] && s[1] <= o->shift_max[1];
}

/* Misfit and g at st + lambda (ds, dk), M into trial; INFINITY when the
 * shift is not admissible. */
static int trial(pty_aligner *al, const pty_align_fit_options *o, const pty_align_state *st, const double ds[2],
                 const double dk[2], double lambda, double *e, double g[2])
{
    double s2[2] = {st->shift[0] + lambda * ds[0], st->shift[1] + lambda * ds[1]};
    double k2[2] = {st->ramp[0] + lambda * dk[0], st->ramp[1] + lambda * dk[1]};
    *e = INFINITY;
    if (!pty_align_admissible(o, s2)) return PTY_OK;
    PTY_TRY(model_into(al, s2, k2, al->trial));
    factor_of(al, al->trial, g, e);
    return PTY_OK;
}

int pty_aligner_fit(pty_aligner *al, const pty_align_fit_options *o, pty_align_state *st)
{
    PTY_CHECK(al && o && st, PTY_ERR_ARG, "pty_aligner_fit: NULL argument");
    PTY_CHECK(o->max_iterations >= 0 && o->tolerance >= 0.0, PTY_ERR_ARG,
              "aligner: max_iterations %d and tolerance %g must be >= 0", o->max_iterations, o->tolerance);
    PTY_TRY(pty_aligner_factor(al, st));
    for (int it = 0; it < o->max_iterations && (o->fit_shift || o->fit_ramp); it++) {
        double ds[2], dk[2], e1, g1[2], lambda = 1.0;
        if (o->fit_shift) PTY_TRY(shift_gradient(al, st->shift, st->ramp));
        gauss_newton_step(al, o, st->g, ds, dk);
        PTY_TRY(trial(al, o, st, ds, dk, lambda, &e1, g1));
        if (e1 <= st->misfit) {
            for (int tries = 0; tries < ALIGN_LINE_TRIES; tries++) {
                double e2, g2[2];
                PTY_TRY(trial(al, o, st, ds, dk, 2.0 * lambda, &e2, g2));
                if (!(e2 < e1)) break;
                lambda *= 2.0, e1 = e2, g1[0] = g2[0], g1[1] = g2[1];
            }
        } else {
            for (int tries = 0; tries < ALIGN_LINE_TRIES && !(e1 <= st->misfit); tries++) {
                lambda *= 0.5;
                PTY_TRY(trial(al, o, st, ds, dk, lambda, &e1, g1));
            }
            if (!(e1 <= st->misfit)) break;
        }
        st->shift[0] += lambda * ds[0], st->shift[1] += lambda * ds[1];
        st->ramp[0] += lambda * dk[0], st->ramp[1] += lambda * dk[1];
        st->g[0] = g1[0], st->g[1] = g1[1];
        st->misfit = e1;
        PTY_TRY(model_into(al, st->shift, st->ramp, al->model));
        if (lambda * hypot(ds[0], ds[1]) < o->tolerance && lambda * hypot(dk[0] * al->h, dk[1] * al->w) < o->tolerance)
            break;
    }
    return PTY_OK;
}
