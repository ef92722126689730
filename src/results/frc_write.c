/* frc_write.c - an FRC curve as a CSV table and a PNG plot (frc.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frc.h"
#include "png_write.h"
#include "pty_error.h"
#include "staging.h"

int pty_frc_write_csv(const char *path, const pty_frc_curve *c, double pixel_size)
{
    char tmp[4300];
    PTY_TRY(pty_stage(path, tmp, sizeof tmp));
    FILE *f = fopen(tmp, "w");
    if (!f) return pty_stage_close(tmp, pty_error_set(PTY_ERR_IO, "cannot create '%s' (%s)", path, strerror(errno)));
    fprintf(f, "ring,frequency_per_px,frequency_per_nm,frc,half_bit,one_seventh,pixels\n");
    for (int k = 0; k < c->n_rings; k++) {
        const double fpx = (double)k / c->size;
        fprintf(f, "%d,%.6g,%.6g,%.6f,%.6f,%.6f,%ld\n", k, fpx, pixel_size > 0 ? fpx / (pixel_size * 1e9) : 0.0,
                c->frc[k], c->half_bit[k], 1.0 / 7.0, c->n_pixels[k]);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return pty_stage_close(tmp, bad ? pty_error_set(PTY_ERR_IO, "cannot write '%s' (disk full?)", path) : PTY_OK);
}

/* A plot without text (the numbers are in the CSV and on stdout): frequency
 * 0 .. Nyquist left to right, correlation 0 .. 1 bottom to top, a frame,
 * grid lines every 0.1 cycles/px and 0.25 in FRC; the curve black and
 * thick, the half-bit threshold dark grey, 1/7 dashed, the crossings as
 * vertical lines. */
#define PLOT_W 640
#define PLOT_H 400
#define MARGIN 20

static void dot(float *img, int x, int y, float v)
{
    if (x >= 0 && x < PLOT_W && y >= 0 && y < PLOT_H) img[(size_t)y * PLOT_W + x] = v;
}

static int px_x(double f) { return MARGIN + (int)lround(f / 0.5 * (PLOT_W - 2 * MARGIN - 1)); }
static int px_y(double v) { return PLOT_H - 1 - MARGIN - (int)lround(fmin(fmax(v, 0), 1) * (PLOT_H - 2 * MARGIN - 1)); }

static void line(float *img, int x0, int y0, int x1, int y1, float v, int thick, int dash)
{
    const int n = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
    for (int i = 0; i <= n; i++) {
        if (dash && (i / 6) % 2) continue;
        const int x = n ? x0 + (x1 - x0) * i / n : x0, y = n ? y0 + (y1 - y0) * i / n : y0;
        for (int d = 0; d < thick; d++) dot(img, x, y + d, v);
    }
}

static void curve(float *img, const pty_frc_curve *c, const double *v, double fixed, float shade, int thick, int dash)
{
    for (int k = 1; k < c->n_rings; k++)
        line(img, px_x((k - 1.0) / c->size), px_y(v ? v[k - 1] : fixed), px_x((double)k / c->size),
             px_y(v ? v[k] : fixed), shade, thick, dash);
}

int pty_frc_write_png(const char *path, const pty_frc_curve *c)
{
    float *img = malloc(sizeof *img * PLOT_W * PLOT_H);
    PTY_CHECK(img, PTY_ERR_NOMEM, "frc: cannot allocate the plot");
    for (int i = 0; i < PLOT_W * PLOT_H; i++) img[i] = 255.0f;
    for (int g = 0; g <= 5; g++) line(img, px_x(0.1 * g), px_y(0), px_x(0.1 * g), px_y(1), 225.0f, 1, 0);
    for (int g = 0; g <= 4; g++) line(img, px_x(0), px_y(0.25 * g), px_x(0.5), px_y(0.25 * g), 225.0f, 1, 0);
    line(img, px_x(0), px_y(0), px_x(0.5), px_y(0), 0.0f, 1, 0);
    line(img, px_x(0), px_y(0), px_x(0), px_y(1), 0.0f, 1, 0);
    curve(img, c, c->half_bit, 0, 110.0f, 2, 0);
    curve(img, c, NULL, 1.0 / 7.0, 110.0f, 2, 1);
    if (c->cross_half_bit < 0.5) line(img, px_x(c->cross_half_bit), px_y(0), px_x(c->cross_half_bit), px_y(1), 160.0f, 1, 1);
    curve(img, c, c->frc, 0, 0.0f, 3, 0);
    int rc = pty_png_write_gray(path, img, PLOT_H, PLOT_W, 0.0f, 255.0f);
    free(img);
    return rc;
}
