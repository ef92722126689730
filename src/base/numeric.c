/* numeric.c - the damped normal-equation solver of numeric.h. */
#include "numeric.h"

#include <math.h>

void pty_solve_damped(double a[6][6], double b[6], int n, double x[6])
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

void pty_phase_plane_add(const pty_cf *p, int h, int w, double ref_re, double ref_im, double slope[2])
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

void pty_refine_ramp(pty_cf *p, int h, int w, const double k1[2], double k[2])
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
    /* phases relative to the mean, so the plane fit sees no wrap */
    k[0] = k1[0];
    k[1] = k1[1];
    pty_phase_plane_add(p, h, w, sum_re, sum_im, k);
}
