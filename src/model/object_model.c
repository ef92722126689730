/* object_model.c - procedural Siemens star and TIFF-based objects.
 *
 * Every feature is band-limited (one-pixel edge ramps, spokes faded out
 * where they become finer than the grid, wide Gaussians) so the object is
 * representable on its pixel grid and a perfect reconstruction can match it. */
#include "object_model.h"

#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "pty_error.h"
#include "tiff_io.h"

#ifndef M_PI /* not in strict C11 */
#define M_PI 3.14159265358979323846
#endif

#define STAR_SPOKES 36

int pty_object_kind_parse(const char *s, pty_object_kind *kind)
{
    if (s && strcasecmp(s, "star") == 0) *kind = PTY_OBJECT_STAR;
    else if (s && strcasecmp(s, "tiff") == 0) *kind = PTY_OBJECT_TIFF;
    else return pty_error_set(PTY_ERR_ARG, "--object must be one of star|tiff, got '%s'", s ? s : "");
    return PTY_OK;
}

const char *pty_object_kind_name(pty_object_kind kind) { return kind == PTY_OBJECT_TIFF ? "tiff" : "star"; }

typedef struct {
    double row, col, sigma, amp; /* centre and width as fractions of the object, amplitude */
} bump;

/* Sum of Gaussians at fractional positions, widths relative to the smaller side. */
static double bumps(const bump *b, int n, double r, double c, int h, int w)
{
    double side = h < w ? h : w, sum = 0.0;
    for (int i = 0; i < n; i++) {
        double dr = r - b[i].row * h, dc = c - b[i].col * w, s = b[i].sigma * side;
        sum += b[i].amp * exp(-(dr * dr + dc * dc) / (2.0 * s * s));
    }
    return sum;
}

/* Spoke pattern in [0, 1] at pixel (r, c) around (r0, c0). */
static double spokes(double r, double c, double r0, double c0)
{
    double dr = r - r0, dc = c - c0, rad = hypot(dr, dc);
    double period = 2.0 * M_PI * rad / STAR_SPOKES; /* arc length of one spoke pair, pixels */
    if (period < 2.0) return 0.5;
    double t = (atan2(dr, dc) + M_PI) / (2.0 * M_PI) * STAR_SPOKES;
    double f = t - floor(t);
    /* signed arc distance to the nearest edge, positive inside an "on" spoke */
    double d = f < 0.5 ? fmin(f, 0.5 - f) : -fmin(f - 0.5, 1.0 - f);
    double sq = fmin(1.0, fmax(0.0, 0.5 + d * period));
    /* fade the contrast where spokes approach the pixel size (no aliasing) */
    double fade = fmin(1.0, (period - 2.0) / 4.0);
    return 0.5 + fade * (sq - 0.5);
}

static void star(const pty_object_spec *spec, int h, int w, pty_cf *out)
{
    static const bump phase_bumps[] = {
        {0.22, 0.30, 0.07, 1.0}, {0.72, 0.18, 0.05, 0.7}, {0.30, 0.82, 0.06, 0.8}, {0.80, 0.74, 0.10, 0.5}};
    static const bump mag_dips[] = {
        {0.35, 0.25, 0.20, 1.0}, {0.65, 0.70, 0.25, 0.8}, {0.15, 0.65, 0.15, 0.6}, {0.85, 0.35, 0.18, 0.7}};
    const int np = sizeof phase_bumps / sizeof phase_bumps[0], nm = sizeof mag_dips / sizeof mag_dips[0];
    double pmax = 0.0, mmax = 0.0;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            pmax = fmax(pmax, bumps(phase_bumps, np, r, c, h, w));
            mmax = fmax(mmax, bumps(mag_dips, nm, r, c, h, w));
        }
    const double r0 = 0.47 * h, c0 = 0.53 * w;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            double p = 0.75 * spokes(r, c, r0, c0) + 0.25 * bumps(phase_bumps, np, r, c, h, w) / pmax;
            double mag = 1.0 - (1.0 - spec->magnitude_min) * bumps(mag_dips, nm, r, c, h, w) / mmax;
            double phi = spec->phase_max * p;
            out[(size_t)r * w + c] = pty_cf_make((float)(mag * cos(phi)), (float)(mag * sin(phi)));
        }
}

/* Read a TIFF and resample it bilinearly to h x w, pixel centres aligned,
 * then map its [min, max] onto [0, 1] (constant image: all 0). */
static int load_unit(const char *path, const char *flag, int h, int w, double *dst)
{
    PTY_CHECK(path && *path, PTY_ERR_ARG, "--object tiff needs %s FILE", flag);
    float *img = NULL;
    int ih = 0, iw = 0;
    int rc = pty_tiff_read_gray(path, &img, &ih, &iw);
    if (rc != PTY_OK) {
        pty_error_context("%s", flag);
        return rc;
    }
    /* non-finite source pixels take the lowest finite value */
    double lo = INFINITY;
    for (size_t i = 0; i < (size_t)ih * iw; i++)
        if (isfinite(img[i]) && img[i] < lo) lo = img[i];
    if (!isfinite(lo)) {
        free(img);
        return pty_error_set(PTY_ERR_DATA, "%s '%s' holds no finite pixel", flag, path);
    }
    for (size_t i = 0; i < (size_t)ih * iw; i++)
        if (!isfinite(img[i])) img[i] = (float)lo;
    double vmin = INFINITY, vmax = -INFINITY;
    for (int r = 0; r < h; r++) {
        double y = fmin(fmax((r + 0.5) * ih / h - 0.5, 0.0), ih - 1.0);
        int y0 = (int)y, y1 = y0 + 1 < ih ? y0 + 1 : y0;
        double fy = y - y0;
        for (int c = 0; c < w; c++) {
            double x = fmin(fmax((c + 0.5) * iw / w - 0.5, 0.0), iw - 1.0);
            int x0 = (int)x, x1 = x0 + 1 < iw ? x0 + 1 : x0;
            double fx = x - x0;
            double v = (1 - fy) * ((1 - fx) * img[(size_t)y0 * iw + x0] + fx * img[(size_t)y0 * iw + x1]) +
                       fy * ((1 - fx) * img[(size_t)y1 * iw + x0] + fx * img[(size_t)y1 * iw + x1]);
            dst[(size_t)r * w + c] = v;
            vmin = fmin(vmin, v);
            vmax = fmax(vmax, v);
        }
    }
    free(img);
    double span = vmax - vmin;
    for (size_t i = 0; i < (size_t)h * w; i++) dst[i] = span > 0 ? (dst[i] - vmin) / span : 0.0;
    return PTY_OK;
}

static int from_tiff(const pty_object_spec *spec, int h, int w, pty_cf *out)
{
    double *mag = malloc((size_t)h * w * sizeof *mag), *phase = malloc((size_t)h * w * sizeof *phase);
    int rc = PTY_OK;
    if (!mag || !phase) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate a %dx%d object", h, w);
    if (rc == PTY_OK) rc = load_unit(spec->magnitude_path, "--object-magnitude", h, w, mag);
    if (rc == PTY_OK) rc = load_unit(spec->phase_path, "--object-phase", h, w, phase);
    if (rc == PTY_OK) {
        int flat = 1;
        for (size_t i = 0; i < (size_t)h * w && flat; i++) flat = mag[i] == 0.0;
        for (size_t i = 0; i < (size_t)h * w; i++) {
            /* a constant magnitude image means a pure phase object, magnitude 1 */
            double a = flat ? 1.0 : spec->magnitude_min + (1.0 - spec->magnitude_min) * mag[i];
            double phi = spec->phase_max * phase[i];
            out[i] = pty_cf_make((float)(a * cos(phi)), (float)(a * sin(phi)));
        }
    }
    free(mag);
    free(phase);
    return rc;
}

int pty_object_model(const pty_object_spec *spec, int h, int w, pty_cf *out)
{
    PTY_CHECK(h >= 1 && w >= 1, PTY_ERR_ARG, "object size %dx%d must be positive", h, w);
    PTY_CHECK(spec->magnitude_min >= 0.0 && spec->magnitude_min <= 1.0, PTY_ERR_ARG,
              "--magnitude-min %g must lie in [0, 1]", spec->magnitude_min);
    PTY_CHECK(isfinite(spec->phase_max), PTY_ERR_ARG, "--phase-max %g must be finite", spec->phase_max);
    if (spec->kind == PTY_OBJECT_TIFF) return from_tiff(spec, h, w, out);
    star(spec, h, w, out);
    return PTY_OK;
}
