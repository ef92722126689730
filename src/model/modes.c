/* modes.c - eigen-orthogonalisation of incoherent probe modes and their
 * seeding.  The K x K Hermitian eigenproblem is solved by cyclic complex
 * Jacobi rotations in double precision: K is small (<= ~20), Jacobi is
 * accurate for tiny matrices, and it needs no LAPACK. */
#include "modes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numeric.h"
#include "pty_error.h"

/* out_k = sum_l c(k, l) P_l for k < K: a K x K linear mix of the modes.
 * c(k, l) is read as coef[k * cs + l * ls] (conjugated with `conj`), so the
 * same loop applies V^H (eigenvector columns) and U (row-major). */
static void mix_modes(const pty_cd *coef, int K, int cs, int ls, int conj, const int *perm, const pty_cf *probe,
                      pty_cf *out, size_t npix)
{
    for (int k = 0; k < K; k++) {
        const int kk = perm ? perm[k] : k;
        pty_cf *dst = out + (size_t)k * npix;
        memset(dst, 0, npix * sizeof *dst);
        for (int l = 0; l < K; l++) {
            pty_cd c = coef[kk * cs + l * ls];
            if (conj) c = pty_cd_conj(c);
            const pty_cf *src = probe + (size_t)l * npix;
            for (size_t i = 0; i < npix; i++) {
                dst[i].re += (float)(c.re * src[i].re - c.im * src[i].im);
                dst[i].im += (float)(c.re * src[i].im + c.im * src[i].re);
            }
        }
    }
}

/* Diagonalise Hermitian h (n x n, row-major) in place; v receives the
 * eigenvectors as columns, h's diagonal the eigenvalues. */
static void hermitian_jacobi(pty_cd *h, pty_cd *v, int n)
{
    for (int i = 0; i < n * n; i++) v[i] = (pty_cd){0, 0};
    for (int i = 0; i < n; i++) v[i * n + i].re = 1.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (int p = 0; p < n; p++) {
            diag += h[p * n + p].re * h[p * n + p].re;
            for (int q = p + 1; q < n; q++) off += h[p * n + q].re * h[p * n + q].re + h[p * n + q].im * h[p * n + q].im;
        }
        if (off <= 1e-30 * diag || off == 0.0) break;
        for (int p = 0; p < n; p++) {
            for (int q = p + 1; q < n; q++) {
                pty_cd b = h[p * n + q];
                double babs = hypot(b.re, b.im);
                if (babs < 1e-300) continue;
                /* phase rotation makes the pivot real, then a real Jacobi rotation zeroes it */
                pty_cd e = {b.re / babs, -b.im / babs}; /* e^{-i phi} */
                double a = h[p * n + p].re, d = h[q * n + q].re;
                double tau = (d - a) / (2.0 * babs);
                double t = (tau >= 0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1.0 + tau * tau));
                double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
                pty_cd jpp = {c, 0}, jpq = {s, 0};
                pty_cd jqp = pty_cd_mul((pty_cd){-s, 0}, e), jqq = pty_cd_mul((pty_cd){c, 0}, e);
                /* H <- H J (columns p, q), then H <- J^H H (rows p, q), V <- V J */
                for (int k = 0; k < n; k++) {
                    pty_cd hp = h[k * n + p], hq = h[k * n + q];
                    h[k * n + p] = pty_cd_add(pty_cd_mul(hp, jpp), pty_cd_mul(hq, jqp));
                    h[k * n + q] = pty_cd_add(pty_cd_mul(hp, jpq), pty_cd_mul(hq, jqq));
                    pty_cd vp = v[k * n + p], vq = v[k * n + q];
                    v[k * n + p] = pty_cd_add(pty_cd_mul(vp, jpp), pty_cd_mul(vq, jqp));
                    v[k * n + q] = pty_cd_add(pty_cd_mul(vp, jpq), pty_cd_mul(vq, jqq));
                }
                for (int k = 0; k < n; k++) {
                    pty_cd hp = h[p * n + k], hq = h[q * n + k];
                    h[p * n + k] = pty_cd_add(pty_cd_mul(pty_cd_conj(jpp), hp), pty_cd_mul(pty_cd_conj(jqp), hq));
                    h[q * n + k] = pty_cd_add(pty_cd_mul(pty_cd_conj(jpq), hp), pty_cd_mul(pty_cd_conj(jqq), hq));
                }
                h[p * n + q] = h[q * n + p] = (pty_cd){0, 0};
                h[p * n + p].im = h[q * n + q].im = 0.0;
            }
        }
    }
}

size_t pty_modes_scratch_bytes(int n_modes, size_t npix)
{
    const size_t K = n_modes > 1 ? (size_t)n_modes : 0;
    return K * K * 2 * sizeof(pty_cd) + K * npix * sizeof(pty_cf) + K * sizeof(int);
}

int pty_modes_orthogonalize(pty_cf *probe, int n_modes, size_t npix, double *power)
{
    void *scratch = NULL;
    if (n_modes > 1 && !(scratch = malloc(pty_modes_scratch_bytes(n_modes, npix))))
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate probe-mode scratch (%d modes)", n_modes);
    int rc = pty_modes_orthogonalize_in(probe, n_modes, npix, power, scratch);
    free(scratch);
    return rc;
}

int pty_modes_orthogonalize_in(pty_cf *probe, int n_modes, size_t npix, double *power, void *scratch)
{
    const int K = n_modes;
    if (K == 1) {
        if (power) {
            double s = 0;
            for (size_t i = 0; i < npix; i++) s += pty_cabs2(probe[i]);
            power[0] = s;
        }
        return PTY_OK;
    }
    /* pty_cd first: the strictest alignment, which malloc gives the block */
    pty_cd *g = scratch;
    pty_cd *v = g + (size_t)K * K;
    pty_cf *out = (pty_cf *)(v + (size_t)K * K);
    int *order = (int *)(out + (size_t)K * npix);
    memset(g, 0, (size_t)K * K * 2 * sizeof *g);
    /* Gram matrix G_kl = sum_r P_k(r) conj(P_l(r)) */
    for (int k = 0; k < K; k++) {
        for (int l = k; l < K; l++) {
            double re = 0, im = 0;
            const pty_cf *a = probe + (size_t)k * npix, *b = probe + (size_t)l * npix;
            for (size_t i = 0; i < npix; i++) {
                re += (double)a[i].re * b[i].re + (double)a[i].im * b[i].im;
                im += (double)a[i].im * b[i].re - (double)a[i].re * b[i].im;
            }
            g[k * K + l] = (pty_cd){re, im};
            g[l * K + k] = (pty_cd){re, -im};
        }
    }
    hermitian_jacobi(g, v, K);
    for (int k = 0; k < K; k++) order[k] = k;
    for (int i = 1; i < K; i++) /* insertion sort by decreasing eigenvalue */
        for (int j = i; j > 0 && g[order[j] * K + order[j]].re > g[order[j - 1] * K + order[j - 1]].re; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    /* new mode k = sum_l conj(V_l,order[k]) P_l: the rows of V^H M, strongest first */
    mix_modes(v, K, 1, K, 1, order, probe, out, npix);
    if (power)
        for (int k = 0; k < K; k++) power[k] = g[order[k] * K + order[k]].re;
    memcpy(probe, out, (size_t)K * npix * sizeof *out);
    return PTY_OK;
}

int pty_modes_align(const pty_cf *ref, pty_cf *probe, int n_modes, size_t npix)
{
    const int K = n_modes;
    pty_cd *mem = calloc((size_t)K * K * 5, sizeof *mem);
    pty_cf *out = malloc((size_t)K * npix * sizeof *out);
    if (!mem || !out) {
        free(mem);
        free(out);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate probe-alignment scratch (%d modes)", K);
    }
    pty_cd *m = mem, *a = m + K * K, *q = a + K * K, *t = q + K * K, *u = t + K * K;
    for (int k = 0; k < K; k++)
        for (int l = 0; l < K; l++) {
            double re = 0, im = 0;
            const pty_cf *x = ref + (size_t)k * npix, *y = probe + (size_t)l * npix;
            for (size_t i = 0; i < npix; i++) {
                re += (double)x[i].re * y[i].re + (double)x[i].im * y[i].im;
                im += (double)x[i].im * y[i].re - (double)x[i].re * y[i].im;
            }
            m[k * K + l] = (pty_cd){re, im};
        }
    /* A = M^H M = Q L Q^H; U = M Q L^{-1/2} Q^H */
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            pty_cd s = {0, 0};
            for (int k = 0; k < K; k++) s = pty_cd_add(s, pty_cd_mul(pty_cd_conj(m[k * K + i]), m[k * K + j]));
            a[i * K + j] = s;
        }
    hermitian_jacobi(a, q, K);
    double lmax = 0;
    for (int i = 0; i < K; i++) lmax = fmax(lmax, a[i * K + i].re);
    int rc = PTY_OK;
    if (!(lmax > 0) || !isfinite(lmax)) {
        rc = pty_error_set(PTY_ERR_DATA, "probe alignment: the probes share no power (or are not finite)");
        goto done;
    }
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            /* t = Q L^{-1/2} Q^H; a near-null direction gets no weight instead of blowing up */
            pty_cd s = {0, 0};
            for (int k = 0; k < K; k++) {
                double l = a[k * K + k].re;
                double f = l > 1e-12 * lmax ? 1.0 / sqrt(l) : 0.0;
                pty_cd p = pty_cd_mul(q[i * K + k], pty_cd_conj(q[j * K + k]));
                s = pty_cd_add(s, (pty_cd){p.re * f, p.im * f});
            }
            t[i * K + j] = s;
        }
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            pty_cd s = {0, 0};
            for (int k = 0; k < K; k++) s = pty_cd_add(s, pty_cd_mul(m[i * K + k], t[k * K + j]));
            u[i * K + j] = s;
        }
    mix_modes(u, K, K, 1, 0, NULL, probe, out, npix);
    memcpy(probe, out, (size_t)K * npix * sizeof *out);
done:
    free(mem);
    free(out);
    return rc;
}

int pty_modes_seed(pty_cf *probe, int n_modes, int m, float fraction, pty_rng *rng)
{
    const size_t npix = (size_t)m * m;
    double p0 = 0;
    for (size_t i = 0; i < npix; i++) p0 += pty_cabs2(probe[i]);
    for (int k = 1; k < n_modes; k++) {
        /* smooth random phase: a random quadratic in normalised coordinates,
           about a radian of variation across the probe per term */
        double c[5];
        for (int i = 0; i < 5; i++) c[i] = 2.0 * pty_rng_normal(rng);
        pty_cf *dst = probe + (size_t)k * npix;
        double pk = 0;
        for (int r = 0; r < m; r++) {
            double y = (r - m / 2) / (0.25 * m);
            for (int col = 0; col < m; col++) {
                double x = (col - m / 2) / (0.25 * m);
                double ph = c[0] * x + c[1] * y + c[2] * x * y + c[3] * (x * x - y * y) + c[4] * (x * x + y * y);
                pty_cf p = probe[(size_t)r * m + col];
                float cs = (float)cos(ph), sn = (float)sin(ph);
                dst[(size_t)r * m + col] = pty_cf_make(p.re * cs - p.im * sn, p.re * sn + p.im * cs);
            }
        }
        /* remove the component along mode 0 so the seed survives orthogonalisation */
        double ore = 0, oim = 0;
        for (size_t i = 0; i < npix; i++) {
            ore += (double)probe[i].re * dst[i].re + (double)probe[i].im * dst[i].im;
            oim += (double)probe[i].re * dst[i].im - (double)probe[i].im * dst[i].re;
        }
        double sre = ore / p0, sim = oim / p0;
        for (size_t i = 0; i < npix; i++) {
            pty_cf p = probe[i];
            dst[i].re -= (float)(sre * p.re - sim * p.im);
            dst[i].im -= (float)(sre * p.im + sim * p.re);
            pk += pty_cabs2(dst[i]);
        }
        float scale = pk > 0 ? (float)sqrt(fraction * p0 / pk) : 0.0f;
        for (size_t i = 0; i < npix; i++) {
            dst[i].re *= scale;
            dst[i].im *= scale;
        }
    }
    return pty_modes_orthogonalize(probe, n_modes, npix, NULL);
}

void pty_modes_power_share(const pty_cf *probe, int n_modes, size_t npix, double *share)
{
    double total = 0;
    for (int k = 0; k < n_modes; k++) {
        double s = 0;
        for (size_t i = 0; i < npix; i++) s += pty_cabs2(probe[(size_t)k * npix + i]);
        share[k] = s;
        total += s;
    }
    for (int k = 0; k < n_modes; k++) share[k] = total > 0 ? share[k] / total : 0.0;
}
