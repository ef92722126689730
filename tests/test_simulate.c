/* test_simulate.c - probe and object models, TIFF I/O, and the simulator:
 * power and centring of the probes, sub-pixel shifts, exact TIFF round
 * trips, determinism, Poisson counts, Parseval, the CXI layout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "h5util.h"
#include "object_model.h"
#include "probe_model.h"
#include "pty_error.h"
#include "pty_test.h"
#include "rng.h"
#include "sim_cxi.h"
#include "simulate.h"
#include "tiff_io.h"

static double power_of(const pty_cf *p, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += pty_cabs2(p[i]);
    return s;
}

static void centroid(const pty_cf *p, int m, double c[2])
{
    double s = 0, r = 0, q = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double w = pty_cabs2(p[(size_t)i * m + j]);
            s += w;
            r += w * i;
            q += w * j;
        }
    c[0] = r / s;
    c[1] = q / s;
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int x = fgetc(fa), y = fgetc(fb);
        if (x != y) same = 0;
        if (x == EOF || y == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static int exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static void test_probes(void)
{
    const int m = 64;
    pty_cf *p = malloc((size_t)m * m * sizeof *p);
    const pty_probe_kind kinds[2] = {PTY_PROBE_APERTURE, PTY_PROBE_GAUSSIAN};
    for (int k = 0; k < 2; k++) {
        char what[128];
        int rc = pty_probe_model(kinds[k], m, 24.0, 1234.5, p);
        snprintf(what, sizeof what, "%s probe: requested power", pty_probe_kind_name(kinds[k]));
        PTY_TEST(what, rc == PTY_OK && fabs(power_of(p, (size_t)m * m) / 1234.5 - 1) < 1e-5);
        double c[2];
        centroid(p, m, c);
        snprintf(what, sizeof what, "%s probe: centroid within 0.1 px of (m/2, m/2)", pty_probe_kind_name(kinds[k]));
        PTY_TEST(what, fabs(c[0] - m / 2) < 0.1 && fabs(c[1] - m / 2) < 0.1);
        rc = pty_probe_shift(p, m, 0.3, -0.7);
        double d[2];
        centroid(p, m, d);
        snprintf(what, sizeof what, "%s probe: shift (0.3, -0.7) moves the centroid by it", pty_probe_kind_name(kinds[k]));
        PTY_TEST(what, rc == PTY_OK && fabs(d[0] - c[0] - 0.3) < 0.02 && fabs(d[1] - c[1] + 0.7) < 0.02);
        snprintf(what, sizeof what, "%s probe: shift keeps the power", pty_probe_kind_name(kinds[k]));
        PTY_TEST(what, fabs(power_of(p, (size_t)m * m) / 1234.5 - 1) < 1e-4);
    }
    /* the aperture's geometric spot: intensity inside the requested diameter dominates */
    pty_probe_model(PTY_PROBE_APERTURE, m, 24.0, 1.0, p);
    double inside = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
            if (hypot(i - m / 2, j - m / 2) <= 14.0) inside += pty_cabs2(p[(size_t)i * m + j]);
    PTY_TEST("aperture probe: >= 90% of the power within the requested diameter (+2 px)", inside > 0.9);
    pty_probe_kind k;
    PTY_TEST("probe kind parse rejects 'square'", pty_probe_kind_parse("square", &k) == PTY_ERR_ARG &&
                                                        strstr(pty_error_message(), "--probe") != NULL);
    free(p);
}

static void test_tiff(void)
{
    const int h = 13, w = 17, n = 4;
    float *img = malloc((size_t)n * h * w * sizeof *img);
    pty_rng r;
    pty_rng_seed(&r, 7);
    for (int i = 0; i < n * h * w; i++) img[i] = (float)(pty_rng_normal(&r) * 1e3);
    img[5] = 1e-38f; /* a denormal-range value survives too */
    int rc = pty_tiff_write_float("ts_one.tif", img, 1, h, w, 1e-8, "test image");
    float *back = NULL;
    int bh = 0, bw = 0;
    int rc2 = pty_tiff_read_gray("ts_one.tif", &back, &bh, &bw);
    PTY_TEST("TIFF float write -> read is exact", rc == PTY_OK && rc2 == PTY_OK && bh == h && bw == w &&
                                                     memcmp(back, img, (size_t)h * w * sizeof *img) == 0);
    PTY_TEST("TIFF write leaves no .tmp file", !exists("ts_one.tif.tmp"));
    free(back);

    rc = pty_tiff_write_float("ts_stack.tif", img, n, h, w, 0.0, NULL);
    TIFF *t = TIFFOpen("ts_stack.tif", "r");
    int dirs = t ? (int)TIFFNumberOfDirectories(t) : -1;
    int all_pages = t != NULL;
    float *line = malloc((size_t)w * sizeof *line);
    for (int p = 0; t && p < n && all_pages; p++) {
        all_pages = TIFFSetDirectory(t, (tdir_t)p);
        for (int y = 0; y < h && all_pages; y++)
            all_pages = TIFFReadScanline(t, line, (uint32_t)y, 0) >= 0 &&
                        memcmp(line, img + ((size_t)p * h + y) * w, (size_t)w * sizeof *line) == 0;
    }
    /* ImageJ reads "images=N" stacks as contiguous data after the first page */
    int contiguous = 1;
    uint64_t prev = 0;
    for (int p = 0; t && p < n; p++) {
        TIFFSetDirectory(t, (tdir_t)p);
        uint64_t off = TIFFGetStrileOffset(t, 0);
        if (p > 0 && off != prev + (uint64_t)h * w * 4) contiguous = 0;
        prev = off;
    }
    char *desc = NULL;
    int imagej = 0;
    if (t && TIFFSetDirectory(t, 0) && TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &desc))
        imagej = strncmp(desc, "ImageJ=", 7) == 0 && strstr(desc, "images=4\n") != NULL;
    if (t) TIFFClose(t);
    PTY_TEST("multi-page TIFF has 4 pages (TIFFNumberOfDirectories)", rc == PTY_OK && dirs == n);
    PTY_TEST("multi-page TIFF: every page reads back exactly", all_pages);
    PTY_TEST("multi-page TIFF: pixel data contiguous, ImageJ description", contiguous && imagej);
    free(line);

    /* 16-bit integer input */
    t = TIFFOpen("ts_u16.tif", "w");
    uint16_t row[5] = {0, 1, 65535, 300, 7};
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 5);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 2);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    TIFFWriteScanline(t, row, 0, 0);
    TIFFWriteScanline(t, row, 1, 0);
    TIFFClose(t);
    rc = pty_tiff_read_gray("ts_u16.tif", &back, &bh, &bw);
    PTY_TEST("16-bit LZW TIFF reads as float", rc == PTY_OK && bh == 2 && bw == 5 && back[2] == 65535.0f &&
                                                 back[8] == 300.0f);
    free(back);

    /* RGB input becomes luminance */
    t = TIFFOpen("ts_rgb.tif", "w");
    unsigned char rgb[6] = {255, 0, 0, 0, 0, 255};
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 2);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFWriteScanline(t, rgb, 0, 0);
    TIFFClose(t);
    rc = pty_tiff_read_gray("ts_rgb.tif", &back, &bh, &bw);
    PTY_TEST("RGB TIFF reads as luminance", rc == PTY_OK && bw == 2 && fabsf(back[0] - 0.299f * 255) < 0.01f &&
                                                fabsf(back[1] - 0.114f * 255) < 0.01f);
    free(back);

    rc = pty_tiff_read_gray("ts_missing.tif", &back, &bh, &bw);
    PTY_TEST("missing TIFF: PTY_ERR_IO naming the file",
             rc == PTY_ERR_IO && back == NULL && strstr(pty_error_message(), "ts_missing.tif") != NULL);
    FILE *f = fopen("ts_text.tif", "w");
    fputs("this is not an image\n", f);
    fclose(f);
    rc = pty_tiff_read_gray("ts_text.tif", &back, &bh, &bw);
    PTY_TEST("non-TIFF file: clear error", rc == PTY_ERR_IO && strstr(pty_error_message(), "not a TIFF") != NULL);
    rc = pty_tiff_write_float("no_such_dir/x.tif", img, 1, h, w, 0, NULL);
    PTY_TEST("TIFF into a missing directory: PTY_ERR_IO naming the path",
             rc == PTY_ERR_IO && strstr(pty_error_message(), "no_such_dir/x.tif") != NULL);

    /* object from two TIFFs: ranges as specified */
    pty_object_spec spec = {PTY_OBJECT_TIFF, "ts_u16.tif", "ts_one.tif", 2.0, 0.5};
    pty_cf *o = malloc(40 * 30 * sizeof *o);
    rc = pty_object_model(&spec, 40, 30, o);
    double amin = 9, amax = -9, pmin = 9, pmax = -9;
    for (int i = 0; i < 40 * 30; i++) {
        double a = hypot(o[i].re, o[i].im), ph = atan2(o[i].im, o[i].re);
        amin = fmin(amin, a), amax = fmax(amax, a), pmin = fmin(pmin, ph), pmax = fmax(pmax, ph);
    }
    PTY_TEST("TIFF object: magnitude spans [0.5, 1], phase [0, 2]", rc == PTY_OK && fabs(amin - 0.5) < 1e-5 &&
                                                                       fabs(amax - 1) < 1e-5 && fabs(pmin) < 1e-5 &&
                                                                       fabs(pmax - 2) < 1e-5);
    spec.phase_path = NULL;
    rc = pty_object_model(&spec, 40, 30, o);
    PTY_TEST("TIFF object without a phase file names --object-phase",
             rc == PTY_ERR_ARG && strstr(pty_error_message(), "--object-phase") != NULL);
    free(o);
    free(img);
    remove("ts_one.tif");
    remove("ts_stack.tif");
    remove("ts_u16.tif");
    remove("ts_rgb.tif");
    remove("ts_text.tif");
}

static void test_star(void)
{
    pty_object_spec spec = {PTY_OBJECT_STAR, NULL, NULL, 1.5, 0.6};
    const int h = 90, w = 120;
    pty_cf *o = malloc((size_t)h * w * sizeof *o);
    int rc = pty_object_model(&spec, h, w, o);
    double amin = 9, amax = -9, pmin = 9, pmax = -9, asym = 0;
    for (int i = 0; i < h * w; i++) {
        double a = hypot(o[i].re, o[i].im), ph = atan2(o[i].im, o[i].re);
        amin = fmin(amin, a), amax = fmax(amax, a), pmin = fmin(pmin, ph), pmax = fmax(pmax, ph);
    }
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            pty_cf a = o[(size_t)r * w + c], b = o[(size_t)(h - 1 - r) * w + (w - 1 - c)];
            asym += hypot(a.re - b.re, a.im - b.im);
        }
    PTY_TEST("star: magnitude in [0.6, 1], phase in [0, 1.5]",
             rc == PTY_OK && amin >= 0.6 - 1e-6 && amax <= 1 + 1e-6 && pmin >= -1e-6 && pmax <= 1.5 + 1e-6);
    PTY_TEST("star: uses the ranges (magnitude min 0.6, phase above 1.2)", amin < 0.61 && pmax > 1.2);
    PTY_TEST("star: not point-symmetric", asym / (h * w) > 0.05);
    free(o);
}

static void tiny_params(pty_sim_params *p)
{
    pty_sim_defaults(p);
    p->rows = p->cols = 3;
    p->m = 32;
    p->step = 5;
    p->jitter = 1.3;
    p->modes = 2;
    p->photons = 1e5;
    p->seed = 42;
}

/* Parseval: sum_q I = m^2 sum_k sum_r |P_k O|^2 for a step-scan frame. */
static double parseval_error(const pty_simulation *s, int j)
{
    const int m = s->m;
    const size_t npix = (size_t)m * m;
    double corner[2];
    pty_geometry_corner(&s->geom, s->positions + 2 * j, m, corner);
    int w0 = (int)floor(corner[0]), w1 = (int)floor(corner[1]);
    pty_cf *p = malloc(npix * sizeof *p);
    double expect = 0;
    for (int k = 0; k < s->modes; k++) {
        memcpy(p, s->probe + k * npix, npix * sizeof *p);
        pty_probe_shift(p, m, corner[0] - w0, corner[1] - w1);
        for (int r = 0; r < m; r++)
            for (int c = 0; c < m; c++)
                expect += pty_cabs2(pty_cmul(p[(size_t)r * m + c], s->object[(size_t)(w0 + r) * s->geom.obj_w + w1 + c]));
    }
    free(p);
    expect *= (double)npix;
    double got = 0;
    for (size_t i = 0; i < npix; i++) got += s->frames[(size_t)j * npix + i];
    return fabs(got / expect - 1);
}

static void test_simulation(void)
{
    pty_sim_params p;
    tiny_params(&p);
    pty_simulation a, b;
    int rc = pty_sim_run(&p, &a);
    PTY_TEST("tiny simulation runs", rc == PTY_OK && a.n == 9 && a.m == 32);
    if (rc != PTY_OK) {
        printf("  %s\n", pty_error_message());
        pty_sim_free(&a);
        return;
    }
    PTY_TEST("mean counts per frame equal --photons (noise-free)", fabs(a.mean_counts / 1e5 - 1) < 1e-5);
    double worst = 0;
    for (int j = 0; j < a.n; j++) worst = fmax(worst, parseval_error(&a, j));
    printf("  Parseval: worst relative error %.2e\n", worst);
    PTY_TEST("Parseval: frame sum = m^2 sum |P O|^2 within 1e-4 (sub-pixel positions)", worst < 1e-4);
    const size_t npix = (size_t)a.m * a.m;
    double p0 = power_of(a.probe, npix), p1 = power_of(a.probe + npix, npix);
    double overlap_re = 0, overlap_im = 0;
    for (size_t i = 0; i < npix; i++) {
        pty_cf z = pty_cmul_conj(a.probe[i], a.probe[npix + i]);
        overlap_re += z.re;
        overlap_im += z.im;
    }
    PTY_TEST("truth modes: power ratio = mode decay, orthogonal",
             fabs(p1 / p0 - 0.5) < 1e-3 && hypot(overlap_re, overlap_im) < 1e-4 * p0);
    PTY_TEST("truth positions: raster + jitter within +-1.3 px",
             fabs(a.positions[2 * 4] - 5) <= 1.3 && fabs(a.positions[2 * 4 + 1] - 5) <= 1.3 &&
                 (a.positions[8] != 5 || a.positions[9] != 5));

    /* same seed, identical files; Poisson counts */
    pty_h5_init();
    p.poisson = 1;
    pty_sim_free(&a);
    rc = pty_sim_run(&p, &a) | pty_sim_write_cxi("ts_a.cxi", &p, &a);
    int rc2 = pty_sim_run(&p, &b) | pty_sim_write_cxi("ts_b.cxi", &p, &b);
    PTY_TEST("same seed: identical frames", rc == PTY_OK && rc2 == PTY_OK &&
                                                 memcmp(a.frames, b.frames, a.n * npix * sizeof(float)) == 0);
    PTY_TEST("same seed: byte-identical CXI files", files_equal("ts_a.cxi", "ts_b.cxi"));
    int integral = 1;
    for (size_t i = 0; i < a.n * npix; i++) integral &= a.frames[i] >= 0 && a.frames[i] == floorf(a.frames[i]);
    PTY_TEST("Poisson frames are non-negative integers", integral);
    PTY_TEST("Poisson mean counts near --photons", fabs(a.mean_counts / 1e5 - 1) < 0.01);
    PTY_TEST("no .tmp file left by the CXI writer", !exists("ts_a.cxi.tmp"));

    /* the CXI file as readers see it */
    hid_t f = -1;
    float *frames = malloc(a.n * npix * sizeof *frames);
    double *tr = malloc((size_t)a.n * 3 * sizeof *tr), energy = 0, dx = 0;
    int ok = pty_h5_open_read("ts_a.cxi", &f) == PTY_OK &&
             pty_h5_read_float(f, "ts_a.cxi", "/entry_1/data_1/data", frames, a.n * npix) == PTY_OK &&
             pty_h5_read_double(f, "ts_a.cxi", "/entry_1/data_1/translation", tr, (size_t)a.n * 3) == PTY_OK &&
             pty_h5_read_scalar(f, "ts_a.cxi", "/entry_1/instrument_1/source_1/energy", &energy) == PTY_OK &&
             pty_h5_read_scalar(f, "ts_a.cxi", "/entry_1/ground_truth/object_pixel_size", &dx) == PTY_OK;
    PTY_TEST("CXI: frames read back through the data_1 link", ok && memcmp(frames, a.frames, a.n * npix * 4) == 0);
    PTY_TEST("CXI: translation x = col dx, y = row dx (m), energy in J",
             ok && fabs(tr[3 * 4] - a.positions[9] * dx) < 1e-15 && fabs(tr[3 * 4 + 1] - a.positions[8] * dx) < 1e-15 &&
                 fabs(energy / 1.602176634e-19 - 8000) < 1e-6 && fabs(dx / a.pixel_size_m - 1) < 1e-12);
    PTY_TEST("CXI: ground truth present, no initial illumination",
             ok && pty_h5_exists(f, "/entry_1/ground_truth/probe") && pty_h5_exists(f, "/entry_1/ground_truth/object") &&
                 pty_h5_exists(f, "/entry_1/ground_truth/positions_px") &&
                 pty_h5_exists(f, "/entry_1/ground_truth/object_position_origin") &&
                 pty_h5_exists(f, "/entry_1/instrument_1/detector_1/translation") &&
                 !pty_h5_exists(f, "/entry_1/instrument_1/source_1/illumination"));
    if (f >= 0) H5Fclose(f);
    free(frames);
    free(tr);
    pty_sim_free(&b);

    /* another seed differs */
    p.seed = 43;
    rc = pty_sim_run(&p, &b);
    PTY_TEST("another seed: different frames", rc == PTY_OK && memcmp(a.frames, b.frames, a.n * npix * 4) != 0);
    pty_sim_free(&a);
    pty_sim_free(&b);

    /* fly scan: the object grid holds the sub-positions, counts still match */
    tiny_params(&p);
    p.fly_steps = 5;
    p.modes = 1;
    rc = pty_sim_run(&p, &a);
    PTY_TEST("fly scan (5 sub-positions) runs, mean counts = photons",
             rc == PTY_OK && fabs(a.mean_counts / 1e5 - 1) < 1e-5 && a.fly_length_px == 5);
    pty_sim_free(&a);

    remove("ts_a.cxi");
    remove("ts_b.cxi");
}

static void test_validation(void)
{
    pty_sim_params p;
    pty_sim_defaults(&p);
    p.m = 8;
    PTY_TEST("frame < 16 refused, naming --frame",
             pty_sim_validate(&p) == PTY_ERR_ARG && strstr(pty_error_message(), "--frame") != NULL);
    pty_sim_defaults(&p);
    p.probe_diameter = 64.5; /* a spot as wide as the window is allowed (a beam filling it) */
    PTY_TEST("probe diameter > frame refused, naming --probe-diameter",
             pty_sim_validate(&p) == PTY_ERR_ARG && strstr(pty_error_message(), "--probe-diameter") != NULL);
    pty_sim_defaults(&p);
    p.rows = 0;
    PTY_TEST("rows < 1 refused, naming --rows",
             pty_sim_validate(&p) == PTY_ERR_ARG && strstr(pty_error_message(), "--rows") != NULL);
    pty_sim_defaults(&p);
    p.object.kind = PTY_OBJECT_TIFF;
    PTY_TEST("--object tiff without files refused, naming the flags",
             pty_sim_validate(&p) == PTY_ERR_ARG && strstr(pty_error_message(), "--object-magnitude") != NULL);
    pty_sim_defaults(&p);
    PTY_TEST("defaults are valid", pty_sim_validate(&p) == PTY_OK);
}

int main(void)
{
    test_probes();
    test_tiff();
    test_star();
    test_simulation();
    test_validation();
    return pty_test_report();
}
