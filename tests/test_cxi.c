/* test_cxi.c - the CXI/HDF5 reader: unit conversion, translation layouts,
 * centring, mask, probe, bad pixels, and one clear error per faulty input.
 *
 * Every file is written here with the h5util writers into a mkdtemp
 * directory that is removed at the end. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxi_read.h"
#include "h5util.h"
#include "pty_error.h"
#include "pty_test.h"

#define N 4
#define M 16
#define MM (M * M)
#define ENERGY_EV 8000.0
#define DIST_M 2.0
#define PIX_M 75e-6
#define DET_DATA "/entry_1/instrument_1/detector_1/data"
#define SAMPLE_T "/entry_1/sample_1/geometry_1/translation"
#define DATA_T "/entry_1/data_1/translation"

/* the (row, col) object-pixel positions every fixture encodes */
static const double want_rc[N][2] = {{0.0, 0.0}, {0.0, 5.0}, {3.5, 0.0}, {-2.0, 7.25}};

static char tmp_dir[64];
static char tmp_files[64][128];
static int n_tmp_files;

static const char *tmp_path(const char *name)
{
    char *p = tmp_files[n_tmp_files++];
    snprintf(p, sizeof tmp_files[0], "%s/%s", tmp_dir, name);
    return p;
}

static double test_dx(void)
{
    double lambda = 6.62607015e-34 * 299792458.0 / (ENERGY_EV * 1.602176634e-19);
    return lambda * DIST_M / (M * PIX_M);
}

/* Frame j: a detector-centred delta of (j+1)^2 at (M/2, M/2) and 4 at
 * (M/2+1, M/2+2), which lands at FFT index (1, 2) with amplitude 2. */
static void make_frames(float *fr, int n)
{
    memset(fr, 0, (size_t)n * MM * sizeof *fr);
    for (int j = 0; j < n; j++) {
        fr[(size_t)j * MM + (M / 2) * M + M / 2] = (float)((j + 1) * (j + 1));
        fr[(size_t)j * MM + (M / 2 + 1) * M + M / 2 + 2] = 4.0f;
    }
}

enum { L_NX3, L_3XN, L_PX, L_METRES_NO_GEOMETRY };

static void write_good(const char *path, int layout)
{
    hid_t f;
    float fr[N * MM];
    make_frames(fr, N);
    if (pty_h5_create(path, &f) != PTY_OK) return;
    /* frames linked from data_1, as most CXI writers do */
    pty_h5_write_frames(f, DET_DATA, fr, N, M);
    pty_h5_soft_link(f, DET_DATA, PTY_CXI_FRAMES);
    if (layout == L_NX3 || layout == L_3XN) {
        pty_h5_write_scalar(f, PTY_CXI_ENERGY, ENERGY_EV * 1.602176634e-19);
        pty_h5_write_scalar(f, PTY_CXI_DISTANCE, DIST_M);
        pty_h5_write_scalar(f, PTY_CXI_PIXEL, PIX_M);
        pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/y_pixel_size", PIX_M);
    }
    const double dx = test_dx();
    if (layout == L_PX) {
        hsize_t dims[2] = {N, 2};
        pty_h5_write_double(f, "/px", &want_rc[0][0], 2, dims);
    } else {
        double t[3 * N];
        for (int j = 0; j < N; j++) {
            double xyz[3] = {want_rc[j][1] * dx, want_rc[j][0] * dx, 0.0};
            for (int k = 0; k < 3; k++) {
                if (layout == L_3XN) t[k * N + j] = xyz[k];
                else t[j * 3 + k] = xyz[k];
            }
        }
        hsize_t nx3[2] = {N, 3}, tn[2] = {3, N};
        if (layout == L_3XN) pty_h5_write_double(f, DATA_T, t, 2, tn);
        else pty_h5_write_double(f, SAMPLE_T, t, 2, nx3);
    }
    H5Fclose(f);
}

static hid_t edit(const char *path) { return H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT); }
static void drop(hid_t f, const char *ds) { H5Ldelete(f, ds, H5P_DEFAULT); }

static pty_read_options opts_for(const char *path)
{
    pty_read_options o;
    pty_read_options_default(&o);
    o.path = path;
    return o;
}

static int positions_match(const pty_dataset *d, double sign_r, double sign_c, int swap)
{
    for (int j = 0; j < N; j++) {
        double r = want_rc[j][swap ? 1 : 0] * sign_r, c = want_rc[j][swap ? 0 : 1] * sign_c;
        if (fabs(d->positions[2 * j] - r) > 1e-9 * (1 + fabs(r))) return 0;
        if (fabs(d->positions[2 * j + 1] - c) > 1e-9 * (1 + fabs(c))) return 0;
    }
    return 1;
}

static int frames_centred(const pty_dataset *d)
{
    for (int j = 0; j < d->n_frames; j++) {
        const float *a = d->amplitudes + (size_t)j * MM;
        if (a[0] != (float)(j + 1) || a[1 * M + 2] != 2.0f || a[(M / 2) * M + M / 2] != 0.0f) return 0;
    }
    return 1;
}

/* Expect pty_dataset_read to fail with `code` and a message containing `phrase`. */
static void expect_fail(const char *what, const pty_read_options *o, int code, const char *phrase)
{
    char descr[512];
    pty_dataset *d = NULL;
    pty_error_clear();
    int rc = pty_dataset_read(o, &d);
    const char *msg = pty_error_message();
    snprintf(descr, sizeof descr, "%s: fails with %s", what, pty_strerror(code));
    PTY_TEST(descr, rc == code && d == NULL);
    snprintf(descr, sizeof descr, "%s: message has \"%s\"", what, phrase);
    PTY_TEST(descr, strstr(msg, phrase) != NULL);
    printf("        -> [%s] %s\n", pty_strerror(rc), msg);
    pty_dataset_destroy(d);
}

static void test_metres_nx3(void)
{
    const char *p = tmp_path("good_nx3.cxi");
    write_good(p, L_NX3);
    pty_read_options o = opts_for(p);
    pty_dataset *d = NULL;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("N x 3 metre translation loads", rc == PTY_OK && d);
    if (rc != PTY_OK) {
        printf("        -> %s\n", pty_error_message());
        return;
    }
    double lambda = 6.62607015e-34 * 299792458.0 / (ENERGY_EV * 1.602176634e-19);
    PTY_TEST("N x 3: frame count and size", d->n_frames == N && d->m == M);
    PTY_TEST("N x 3: wavelength = hc/E", fabs(d->wavelength - lambda) < 1e-6 * lambda);
    PTY_TEST("N x 3: distance and detector pixel", d->distance == DIST_M && d->detector_pixel == PIX_M);
    PTY_TEST("N x 3: object pixel = lambda z / (M p)", fabs(d->pixel_size - test_dx()) < 1e-9 * test_dx());
    PTY_TEST("N x 3: positions row = y/dx, col = x/dx", positions_match(d, 1, 1, 0));
    PTY_TEST("N x 3: detector centre lands at [0][0] as sqrt", frames_centred(d));
    PTY_TEST("N x 3: nothing masked, no probe", d->n_masked == 0 && d->probe == NULL && d->probe_modes == 0);
    pty_dataset_destroy(d);

    o.transpose = o.flip_x = o.flip_y = 1;
    rc = pty_dataset_read(&o, &d);
    /* transpose first: (row, col) -> (col, row); then flip_x negates the new
       col and flip_y the new row */
    PTY_TEST("transpose + flip_x + flip_y", rc == PTY_OK && positions_match(d, -1, -1, 1));
    pty_dataset_destroy(d);
    o.transpose = o.flip_y = 0;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("flip_x negates col only", rc == PTY_OK && positions_match(d, 1, -1, 0));
    pty_dataset_destroy(d);
}

static void test_metres_3xn(void)
{
    const char *p = tmp_path("good_3xn.cxi");
    write_good(p, L_3XN);
    pty_read_options o = opts_for(p);
    pty_dataset *d = NULL;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("3 x N metre translation (PyNX) loads", rc == PTY_OK && d);
    if (rc == PTY_OK) PTY_TEST("3 x N: positions transposed and converted", positions_match(d, 1, 1, 0));
    pty_dataset_destroy(d);
}

static void test_pixels(void)
{
    const char *p = tmp_path("pixels.h5");
    write_good(p, L_PX);
    pty_read_options o = opts_for(p);
    o.positions = "/px";
    o.positions_px = 1;
    pty_dataset *d = NULL;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("pixel positions without geometry load", rc == PTY_OK && d);
    if (rc == PTY_OK) {
        PTY_TEST("pixel positions: exact (row, col)", positions_match(d, 1, 1, 0));
        PTY_TEST("pixel positions: unknown geometry is 0",
                 d->wavelength == 0 && d->pixel_size == 0 && d->distance == 0 && d->detector_pixel == 0);
        PTY_TEST("pixel positions: frames centred", frames_centred(d));
    }
    pty_dataset_destroy(d);

    /* a (3, 2) table with 3 frames is N x 2, not a 3 x N translation */
    const char *q = tmp_path("three.h5");
    hid_t f;
    float fr[3 * MM];
    make_frames(fr, 3);
    double xy[6] = {0, 0, 1e-6, 0, 0, 2e-6};
    hsize_t dims[2] = {3, 2};
    pty_h5_create(q, &f);
    pty_h5_write_frames(f, PTY_CXI_FRAMES, fr, 3, M);
    pty_h5_write_double(f, DATA_T, xy, 2, dims);
    H5Fclose(f);
    o = opts_for(q);
    o.energy_ev = ENERGY_EV;
    o.distance_m = DIST_M;
    o.pixel_m = PIX_M;
    rc = pty_dataset_read(&o, &d);
    double dx = test_dx();
    PTY_TEST("3 x 2 metre table with 3 frames reads as N x 2 (x, y)",
             rc == PTY_OK && fabs(d->positions[3] - 1e-6 / dx) < 1e-9 && fabs(d->positions[4] - 2e-6 / dx) < 1e-9);
    pty_dataset_destroy(d);
}

static void test_overrides(void)
{
    const char *p = tmp_path("nogeom.cxi");
    write_good(p, L_METRES_NO_GEOMETRY);
    pty_read_options o = opts_for(p);
    o.energy_ev = ENERGY_EV;
    o.distance_m = DIST_M;
    o.pixel_m = PIX_M;
    pty_dataset *d = NULL;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("overrides supply missing geometry", rc == PTY_OK && positions_match(d, 1, 1, 0));
    pty_dataset_destroy(d);

    /* overrides win over the file's values */
    const char *q = tmp_path("wronggeom.cxi");
    write_good(q, L_NX3);
    hid_t f = edit(q);
    drop(f, PTY_CXI_DISTANCE);
    pty_h5_write_scalar(f, PTY_CXI_DISTANCE, 7.0);
    H5Fclose(f);
    o = opts_for(q);
    o.distance_m = DIST_M;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("override beats file value", rc == PTY_OK && d->distance == DIST_M && positions_match(d, 1, 1, 0));
    pty_dataset_destroy(d);

    /* energy stored in eV instead of J: a warning, and the override cures it */
    f = edit(q);
    drop(f, PTY_CXI_ENERGY);
    pty_h5_write_scalar(f, PTY_CXI_ENERGY, ENERGY_EV);
    H5Fclose(f);
    o = opts_for(q);
    o.distance_m = DIST_M;
    o.energy_ev = ENERGY_EV;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("energy override replaces an energy stored in eV", rc == PTY_OK && positions_match(d, 1, 1, 0));
    pty_dataset_destroy(d);
    o.energy_ev = 0;
    o.positions = "/entry_1/sample_1/geometry_1/translation";
    printf("        (one warning that 8000 J is implausible is expected)\n");
    fflush(stdout);
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("energy in eV loads (with a warning) but gives absurd pixels", rc == PTY_OK && fabs(d->positions[3]) > 1e10);
    pty_dataset_destroy(d);
}

static void test_probe_and_mask(void)
{
    const char *p = tmp_path("probe_mask.cxi");
    write_good(p, L_NX3);
    static pty_cf probe[2 * MM];
    for (int i = 0; i < 2 * MM; i++) probe[i] = pty_cf_make((float)i, (float)(-0.5 * i));
    int mask[MM] = {0};
    mask[(M / 2) * M + M / 2 + 1] = 3; /* detector (M/2, M/2+1) = FFT (0, 1) */
    hid_t f = edit(p);
    hsize_t pd[3] = {2, M, M}, md[2] = {M, M};
    pty_h5_write_complex(f, PTY_CXI_PROBE, probe, 3, pd);
    pty_h5_write_int(f, "/entry_1/instrument_1/detector_1/mask", mask, 2, md);
    pty_h5_write_complex(f, "/probe1", probe, 2, md);
    H5Fclose(f);

    pty_read_options o = opts_for(p);
    pty_dataset *d = NULL;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("probe (K, M, M) and int mask load", rc == PTY_OK && d);
    if (rc == PTY_OK) {
        PTY_TEST("probe: 2 modes", d->probe_modes == 2 && d->probe);
        PTY_TEST("probe: values kept",
                 d->probe && memcmp(d->probe, probe, sizeof probe) == 0);
        int ok = 1;
        for (int j = 0; j < N; j++) ok &= d->amplitudes[(size_t)j * MM + 1] == PTY_MASKED;
        PTY_TEST("mask: flagged pixel is PTY_MASKED in every frame (FFT order)", ok);
        PTY_TEST("mask: n_masked counts it once per frame", d->n_masked == N);
        PTY_TEST("mask: other pixels untouched", frames_centred(d));
    }
    pty_dataset_destroy(d);

    o.probe = "/probe1";
    o.mask = NULL;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("probe (M, M) loads as one mode; mask NULL ignores the mask",
             rc == PTY_OK && d->probe_modes == 1 && d->n_masked == 0 && d->probe[5].re == 5.0f);
    pty_dataset_destroy(d);
}

static void test_bad_pixels(void)
{
    const char *p = tmp_path("badpix.h5");
    hid_t f;
    float fr[N * MM];
    make_frames(fr, N);
    fr[1 * MM + 0] = NAN;
    fr[3 * MM + 1 * M + 1] = -5.0f;
    fr[3 * MM + 2 * M + 2] = INFINITY;
    hsize_t dims[2] = {N, 2};
    pty_h5_create(p, &f);
    pty_h5_write_frames(f, "/frames", fr, N, M);
    pty_h5_write_double(f, "/px", &want_rc[0][0], 2, dims);
    H5Fclose(f);

    pty_read_options o = opts_for(p);
    o.frames = "/frames";
    o.positions = "/px";
    o.positions_px = 1;
    pty_dataset *d = NULL;
    printf("        (one warning about 3 bad pixels in 2 of 4 frames, first in frame 1, is expected)\n");
    fflush(stdout);
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("NaN, Inf and negative pixels are not refused", rc == PTY_OK);
    if (rc == PTY_OK) {
        PTY_TEST("bad pixels: n_masked = 3", d->n_masked == 3);
        /* detector (0,0) -> FFT (M/2, M/2); (1,1) -> (M/2+1, M/2+1) */
        PTY_TEST("bad pixels: NaN masked", d->amplitudes[1 * MM + (M / 2) * M + M / 2] == PTY_MASKED);
        PTY_TEST("bad pixels: negative masked", d->amplitudes[3 * MM + (M / 2 + 1) * M + M / 2 + 1] == PTY_MASKED);
        PTY_TEST("bad pixels: Inf masked", d->amplitudes[3 * MM + (M / 2 + 2) * M + M / 2 + 2] == PTY_MASKED);
    }
    pty_dataset_destroy(d);
}

static void test_uint16_and_chunks(void)
{
    /* 70 frames cross the 64-frame read chunk */
    enum { NF = 70 };
    const char *p = tmp_path("u16.h5");
    static unsigned short fr[NF * MM];
    static double px[NF * 2];
    for (int j = 0; j < NF; j++) {
        fr[(size_t)j * MM + (M / 2) * M + M / 2] = (unsigned short)((j + 1) * (j + 1));
        px[2 * j] = j;
        px[2 * j + 1] = -j;
    }
    hid_t f;
    pty_h5_create(p, &f);
    hsize_t d3[3] = {NF, M, M}, d2[2] = {NF, 2};
    hid_t s = H5Screate_simple(3, d3, NULL);
    hid_t ds = H5Dcreate2(f, "/u16", H5T_STD_U16LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_USHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, fr);
    H5Dclose(ds);
    H5Sclose(s);
    pty_h5_write_double(f, "/px", px, 2, d2);
    H5Fclose(f);

    pty_read_options o = opts_for(p);
    o.frames = "/u16";
    o.positions = "/px";
    o.positions_px = 1;
    pty_dataset *d = NULL;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("uint16 frames, 70 of them, load", rc == PTY_OK && d && d->n_frames == NF);
    if (rc == PTY_OK) {
        int ok = 1;
        for (int j = 0; j < NF; j++) ok &= d->amplitudes[(size_t)j * MM] == (float)(j + 1);
        PTY_TEST("uint16: every frame centred and square-rooted across chunks", ok);
        PTY_TEST("uint16: last position", d->positions[2 * (NF - 1)] == NF - 1 && d->positions[2 * NF - 1] == -(NF - 1));
    }
    /* a subset from a contiguous dataset, across the 64-frame read chunk */
    int sub[NF], ns = 0;
    for (int j = 0; j < NF; j++)
        if (j != 3 && j != 10 && j != 40 && j != 65) sub[ns++] = j;
    pty_dataset *part = NULL;
    o.frame_subset = sub;
    o.n_subset = ns;
    rc = pty_dataset_read(&o, &part);
    PTY_TEST("uint16: subset of 66 frames across read chunks", rc == PTY_OK && part && part->n_frames == ns);
    if (rc == PTY_OK && d) {
        const size_t mm = MM;
        int ok = 1;
        for (int k = 0; k < ns; k++)
            ok &= memcmp(part->amplitudes + k * mm, d->amplitudes + (size_t)sub[k] * mm, mm * sizeof(float)) == 0 &&
                  part->positions[2 * k] == sub[k] && part->positions[2 * k + 1] == -sub[k];
        PTY_TEST("uint16: subset frames and positions match the whole read", ok);
    }
    pty_dataset_destroy(part);
    pty_dataset_destroy(d);
}

/* Expect pty_positions_read to fail likewise. */
static void expect_positions_fail(const char *what, const pty_read_options *o, int code, const char *phrase)
{
    char descr[512];
    double *pos = NULL;
    int n = -1, m = -1;
    pty_error_clear();
    int rc = pty_positions_read(o, &pos, &n, &m);
    const char *msg = pty_error_message();
    snprintf(descr, sizeof descr, "%s: fails with %s", what, pty_strerror(code));
    PTY_TEST(descr, rc == code && pos == NULL && n == 0 && m == 0);
    snprintf(descr, sizeof descr, "%s: message has \"%s\"", what, phrase);
    PTY_TEST(descr, strstr(msg, phrase) != NULL);
    printf("        -> [%s] %s\n", pty_strerror(rc), msg);
    free(pos);
}

/* Frame k of `sub` (amplitudes and positions) is frame want[k] of `all`, bit for bit. */
static int same_frames(const pty_dataset *sub, const pty_dataset *all, const int *want, int n)
{
    if (!sub || !all || sub->n_frames != n || sub->m != all->m) return 0;
    const size_t mm = (size_t)all->m * all->m;
    for (int k = 0; k < n; k++) {
        if (memcmp(sub->amplitudes + k * mm, all->amplitudes + (size_t)want[k] * mm, mm * sizeof(float)) != 0) return 0;
        if (memcmp(sub->positions + 2 * k, all->positions + 2 * want[k], 2 * sizeof(double)) != 0) return 0;
    }
    return 1;
}

/* Reading a subset of the frames (one MPI rank's share) gives exactly those
 * frames of the whole read; positions alone match too. */
static void test_subset(void)
{
    enum { NF = 12 };
    const char *p = tmp_path("subset.cxi");
    static float fr[NF * MM];
    double t[NF * 3], dx = test_dx(), want_pos[NF * 2];
    make_frames(fr, NF);
    for (int j = 0; j < NF; j++) {
        fr[(size_t)j * MM + 3 * M + 5] = (float)(7 * j + 1); /* frames differ beyond the centre too */
        want_pos[2 * j] = 1.5 * j;                           /* row */
        want_pos[2 * j + 1] = -0.75 * j + (j % 3);           /* col */
        t[3 * j] = want_pos[2 * j + 1] * dx;                 /* x */
        t[3 * j + 1] = want_pos[2 * j] * dx;                 /* y */
        t[3 * j + 2] = 0.0;
    }
    fr[2 * MM + 0] = NAN; /* frame 2 is in the subset below, frame 4 is not */
    fr[4 * MM + 0] = NAN;
    hid_t f;
    hsize_t d3[2] = {NF, 3}, d11[2] = {NF - 1, 3};
    pty_h5_create(p, &f);
    pty_h5_write_frames(f, PTY_CXI_FRAMES, fr, NF, M);
    pty_h5_write_double(f, SAMPLE_T, t, 2, d3);
    pty_h5_write_double(f, "/short", t, 2, d11);
    pty_h5_write_scalar(f, PTY_CXI_ENERGY, ENERGY_EV * 1.602176634e-19);
    pty_h5_write_scalar(f, PTY_CXI_DISTANCE, DIST_M);
    pty_h5_write_scalar(f, PTY_CXI_PIXEL, PIX_M);
    H5Fclose(f);

    pty_read_options o = opts_for(p);
    o.flip_y = 1;
    PTY_TEST("subset: defaults read all frames", o.frame_subset == NULL && o.n_subset == 0);
    pty_dataset *all = NULL, *d = NULL;
    printf("        (three warnings are expected, all first in frame 2: 2 bad pixels in 2 of 12 frames, "
           "1 in 1 of 5, 2 in 2 of 12)\n");
    fflush(stdout);
    int rc = pty_dataset_read(&o, &all);
    PTY_TEST("subset: whole file loads", rc == PTY_OK && all && all->n_frames == NF && all->n_masked == 2);
    if (rc != PTY_OK) {
        printf("        -> %s\n", pty_error_message());
        return;
    }
    int ok = 1;
    for (int j = 0; j < NF; j++)
        ok &= fabs(all->positions[2 * j] + want_pos[2 * j]) < 1e-9 && fabs(all->positions[2 * j + 1] - want_pos[2 * j + 1]) < 1e-9;
    PTY_TEST("subset: whole-file positions converted and flipped", ok);

    static const int sub[] = {1, 2, 3, 7, 9}; /* three runs: 1-3, 7, 9 */
    o.frame_subset = sub;
    o.n_subset = 5;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("subset {1,2,3,7,9} loads 5 frames", rc == PTY_OK && d && d->n_frames == 5 && d->m == M);
    PTY_TEST("subset: amplitudes and positions are those frames of the whole read, bit for bit",
             same_frames(d, all, sub, 5));
    PTY_TEST("subset: geometry as for the whole read",
             d && d->wavelength == all->wavelength && d->distance == all->distance &&
                 d->detector_pixel == all->detector_pixel && d->pixel_size == all->pixel_size);
    PTY_TEST("subset: n_masked counts only the frames read", d && d->n_masked == 1);
    pty_dataset_destroy(d);
    d = NULL;

    int every[NF], odd[NF / 2], last = NF - 1;
    for (int j = 0; j < NF; j++) every[j] = j;
    for (int j = 0; j < NF / 2; j++) odd[j] = 2 * j + 1;
    o.frame_subset = every;
    o.n_subset = NF;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("subset of every frame equals the whole read",
             rc == PTY_OK && same_frames(d, all, every, NF) && d->n_masked == all->n_masked);
    pty_dataset_destroy(d);
    d = NULL;
    o.frame_subset = odd;
    o.n_subset = NF / 2;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("subset of odd frames (no two consecutive)", rc == PTY_OK && same_frames(d, all, odd, NF / 2));
    pty_dataset_destroy(d);
    d = NULL;
    o.frame_subset = &last;
    o.n_subset = 1;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("subset of the last frame alone", rc == PTY_OK && same_frames(d, all, &last, 1));
    pty_dataset_destroy(d);
    d = NULL;

    double *pos = NULL;
    int n = 0, m = 0;
    o.frame_subset = sub; /* ignored */
    o.n_subset = 5;
    rc = pty_positions_read(&o, &pos, &n, &m);
    PTY_TEST("pty_positions_read: all N positions and m",
             rc == PTY_OK && pos && n == NF && m == M &&
                 memcmp(pos, all->positions, (size_t)NF * 2 * sizeof *pos) == 0);
    free(pos);

    /* bad subsets */
    static const int past_end[] = {1, 12}, negative[] = {-1, 3}, repeated[] = {1, 3, 3}, decreasing[] = {4, 2};
    o.frame_subset = past_end;
    o.n_subset = 2;
    expect_fail("subset index = N", &o, PTY_ERR_ARG, "frame index 12 (subset entry 1) is out of range");
    expect_fail("subset index = N: frame count", &o, PTY_ERR_ARG, "holds 12 frames (0 to 11)");
    o.frame_subset = negative;
    expect_fail("subset index -1", &o, PTY_ERR_ARG, "frame index -1 (subset entry 0) is out of range");
    o.frame_subset = repeated;
    o.n_subset = 3;
    expect_fail("subset repeats an index", &o, PTY_ERR_ARG, "frame index 3 (subset entry 2) does not follow 3");
    expect_fail("subset repeats an index: rule", &o, PTY_ERR_ARG, "must be strictly increasing ('" PTY_CXI_FRAMES "' holds 12 frames)");
    o.frame_subset = decreasing;
    o.n_subset = 2;
    expect_fail("subset decreasing", &o, PTY_ERR_ARG, "frame index 2 (subset entry 1) does not follow 4");
    o.n_subset = 0;
    expect_fail("empty subset", &o, PTY_ERR_ARG, "the frame subset is empty (0 indices)");
    o.frame_subset = NULL;
    o.n_subset = 3;
    expect_fail("subset count without indices", &o, PTY_ERR_ARG, "given without the indices");

    /* the whole file is still validated, with the same messages */
    o.frame_subset = sub;
    o.n_subset = 5;
    o.positions = "/short";
    expect_fail("subset: positions count checked against the whole file", &o, PTY_ERR_DATA,
                "holds 11 positions but there are 12 frames");
    expect_positions_fail("positions only: count mismatch", &o, PTY_ERR_DATA, "holds 11 positions but there are 12 frames");
    o.positions = NULL;
    o.energy = "/nowhere";
    expect_positions_fail("positions only: geometry still needed", &o, PTY_ERR_HDF5, "has no energy dataset '/nowhere'");
    o = opts_for(tmp_path("missing.cxi"));
    expect_positions_fail("positions only: missing file", &o, PTY_ERR_IO, "(No such file or directory)");
    pty_dataset_destroy(all);
}

/* Frames whose last chunk is corrupt: a subset before it reads, the whole
 * file fails naming the file, dataset and frame; a filter that is not
 * available is named as such. */
static void test_corrupt_chunk(void)
{
    enum { NF = 16 };
    const char *p = tmp_path("corrupt.h5");
    static float fr[NF * MM];
    static double px[NF * 2];
    make_frames(fr, NF);
    for (int j = 0; j < NF; j++) {
        px[2 * j] = j / 4;
        px[2 * j + 1] = j % 4;
    }
    hid_t f;
    hsize_t dp[2] = {NF, 2};
    pty_h5_create(p, &f);
    pty_h5_write_frames(f, "/frames", fr, NF, M);
    pty_h5_write_double(f, "/px", px, 2, dp);
    /* a stream that is not zlib: deflate fails on it */
    static unsigned char junk[200];
    memset(junk, 0xA5, sizeof junk);
    hid_t ds = H5Dopen2(f, "/frames", H5P_DEFAULT);
    hsize_t last[3] = {NF - 1, 0, 0};
    herr_t e = H5Dwrite_chunk(ds, H5P_DEFAULT, 0, last, sizeof junk, junk);
    H5Dclose(ds);
    /* frames "compressed" with a filter this HDF5 does not have (32004, LZ4):
       the optional flag lets the dataset be created without it; chunks not
       written read as zeros without the filter */
    hsize_t dims[3] = {NF, M, M}, chunk[3] = {1, M, M}, first[3] = {0, 0, 0}, second[3] = {1, 0, 0};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    H5Pset_filter(dcpl, 32004, H5Z_FLAG_OPTIONAL, 0, NULL);
    hid_t sp = H5Screate_simple(3, dims, NULL);
    ds = H5Dcreate2(f, "/lz4", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    e |= H5Dwrite_chunk(ds, H5P_DEFAULT, 0, first, sizeof junk, junk);
    e |= H5Dwrite_chunk(ds, H5P_DEFAULT, 0, second, sizeof junk, junk);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Fclose(f);
    PTY_TEST("corrupt fixture written", e >= 0);

    pty_read_options o = opts_for(p);
    o.frames = "/frames";
    o.positions = "/px";
    o.positions_px = 1;
    pty_dataset *d = NULL;
    int head[NF - 1];
    for (int j = 0; j < NF - 1; j++) head[j] = j;
    o.frame_subset = head;
    o.n_subset = 8;
    int rc = pty_dataset_read(&o, &d);
    PTY_TEST("corrupt last chunk: the first 8 frames read", rc == PTY_OK && d && d->n_frames == 8 && frames_centred(d));
    pty_dataset_destroy(d);
    d = NULL;
    o.n_subset = NF - 1;
    rc = pty_dataset_read(&o, &d);
    PTY_TEST("corrupt last chunk: every other frame reads", rc == PTY_OK && d && d->n_frames == NF - 1 && frames_centred(d));
    pty_dataset_destroy(d);
    d = NULL;
    double *pos = NULL;
    int n = 0, m = 0;
    o.frame_subset = NULL;
    o.n_subset = 0;
    rc = pty_positions_read(&o, &pos, &n, &m);
    PTY_TEST("corrupt last chunk: positions alone read", rc == PTY_OK && n == NF && m == M && pos[2 * (NF - 1)] == 3.0);
    free(pos);

    char expect[512];
    snprintf(expect, sizeof expect, "'%s': cannot read frame 15 of '/frames' (corrupt or unreadable data)", p);
    expect_fail("corrupt last chunk: whole read", &o, PTY_ERR_HDF5, expect);
    static const int with_last[] = {3, 15};
    o.frame_subset = with_last;
    o.n_subset = 2;
    expect_fail("corrupt last chunk: subset holding it", &o, PTY_ERR_HDF5, expect);

    o = opts_for(p);
    o.frames = "/lz4";
    o.positions = "/px";
    o.positions_px = 1;
    o.frame_subset = head;
    o.n_subset = 2;
    /* the name in brackets is the file's (what its writer registered) or ours (LZ4): either will do */
    snprintf(expect, sizeof expect, "'%s': cannot read '/lz4': it is compressed with HDF5 filter 32004 (", p);
    /* the plugin may be installed (hdf5-filter-plugin): out of reach for these two checks */
    unsigned int plugins = 0;
    H5PLget_loading_state(&plugins);
    H5PLset_loading_state(0);
    if (H5Zfilter_avail(32004) > 0) H5Zunregister(32004); /* loaded already, by the corrupt-chunk reads above */
    expect_fail("unavailable filter", &o, PTY_ERR_HDF5, expect);
    expect_fail("unavailable filter: remedy", &o, PTY_ERR_HDF5, "which is not available; install its plugin");
    H5PLset_loading_state(plugins);
}

/* A good file, then one change per case. */
static void test_errors(void)
{
    pty_read_options o;
    hid_t f;
    const char *p;
    char expect[512];

    o = opts_for(tmp_path("does_not_exist.cxi"));
    expect_fail("missing file", &o, PTY_ERR_IO, "(No such file or directory)");
    snprintf(expect, sizeof expect, "cannot open '%s'", o.path);
    expect_fail("missing file names it", &o, PTY_ERR_IO, expect);

    p = tmp_path("text.cxi");
    FILE *t = fopen(p, "w");
    if (t) {
        fputs("this is not HDF5\n", t);
        fclose(t);
    }
    o = opts_for(p);
    snprintf(expect, sizeof expect, "'%s' is not an HDF5 file", p);
    expect_fail("not HDF5", &o, PTY_ERR_HDF5, expect);

    p = tmp_path("noframes.cxi");
    write_good(p, L_NX3);
    f = edit(p);
    drop(f, PTY_CXI_FRAMES);
    float small[N * 16 * 12] = {0};
    hsize_t r2[2] = {M, M}, nsq[3] = {N, 16, 12}, tiny[3] = {N, 4, 4}, one[3] = {1, M, M};
    pty_h5_write_float(f, "/flat", small, 2, r2);
    pty_h5_write_float(f, "/nonsq", small, 3, nsq);
    pty_h5_write_float(f, "/tiny", small, 3, tiny);
    pty_h5_write_complex(f, "/cframes", (const pty_cf *)small, 3, one);
    H5Fclose(f);
    o = opts_for(p);
    snprintf(expect, sizeof expect, "'%s' has no dataset '/entry_1/data_1/data'; give its path with --frames", p);
    expect_fail("frames missing", &o, PTY_ERR_HDF5, expect);
    o.frames = "/flat";
    expect_fail("frames rank 2", &o, PTY_ERR_HDF5, "frames dataset '/flat' must be 3-D (N, M, M), got rank 2");
    o.frames = "/nonsq";
    expect_fail("non-square frames", &o, PTY_ERR_HDF5, "frames '/nonsq' are 16x12, not square: choose the M x M region around the beam centre with --crop M");
    o.frames = "/tiny";
    expect_fail("4x4 frames", &o, PTY_ERR_HDF5, "out of range");
    o.frames = "/cframes";
    expect_fail("complex frames", &o, PTY_ERR_HDF5, "must hold integer or float intensities");

    p = tmp_path("nopos.cxi");
    write_good(p, L_NX3);
    f = edit(p);
    drop(f, SAMPLE_T);
    H5Fclose(f);
    o = opts_for(p);
    snprintf(expect, sizeof expect, "'%s' has no positions dataset (tried '%s'", p, DATA_T);
    expect_fail("positions missing", &o, PTY_ERR_HDF5, expect);
    expect_fail("positions missing hint", &o, PTY_ERR_HDF5, "; give its path with --positions or --positions-px");
    o.positions = "/nowhere";
    expect_fail("named positions missing", &o, PTY_ERR_HDF5, "has no positions dataset (tried '/nowhere')");

    p = tmp_path("badpos.cxi");
    write_good(p, L_NX3);
    f = edit(p);
    double pos[4 * 4] = {0}, pos3[3 * 3] = {0}, posnan[N * 3] = {0};
    posnan[2 * 3 + 1] = NAN;
    hsize_t d44[2] = {4, 4}, d33[2] = {3, 3}, dn3[2] = {N, 3};
    pty_h5_write_double(f, "/p44", pos, 2, d44);
    pty_h5_write_double(f, "/p33", pos3, 2, d33);
    pty_h5_write_double(f, "/pnan", posnan, 2, dn3);
    H5Fclose(f);
    o = opts_for(p);
    o.positions = "/p44";
    expect_fail("positions 4x4 in metres", &o, PTY_ERR_HDF5, "positions dataset '/p44' has shape 4x4");
    o.positions_px = 1;
    expect_fail("positions 4x4 in pixels", &o, PTY_ERR_HDF5, "has shape 4x4; pixel positions must be N x 2");
    o.positions_px = 0;
    o.positions = "/p33";
    expect_fail("3 positions for 4 frames", &o, PTY_ERR_DATA,
                "positions dataset '/p33' holds 3 positions but there are 4 frames");
    o.positions = "/pnan";
    expect_fail("NaN position", &o, PTY_ERR_DATA, "non-finite value at position 2");

    p = tmp_path("geom.cxi");
    write_good(p, L_NX3);
    o = opts_for(p);
    f = edit(p);
    drop(f, PTY_CXI_ENERGY);
    H5Fclose(f);
    expect_fail("energy missing", &o, PTY_ERR_HDF5, "has no energy dataset '" PTY_CXI_ENERGY "'");
    expect_fail("energy missing: flag", &o, PTY_ERR_HDF5, "--energy");
    f = edit(p);
    pty_h5_write_scalar(f, PTY_CXI_ENERGY, 0.0);
    drop(f, PTY_CXI_DISTANCE);
    H5Fclose(f);
    snprintf(expect, sizeof expect, "'%s': energy must be positive (dataset '%s' holds 0 J)", p, PTY_CXI_ENERGY);
    expect_fail("energy 0", &o, PTY_ERR_DATA, expect);
    o.energy_ev = ENERGY_EV;
    expect_fail("distance missing", &o, PTY_ERR_HDF5, "--distance");
    f = edit(p);
    pty_h5_write_scalar(f, PTY_CXI_DISTANCE, -1.0);
    drop(f, PTY_CXI_PIXEL);
    H5Fclose(f);
    expect_fail("distance -1", &o, PTY_ERR_DATA, "distance must be positive (dataset '" PTY_CXI_DISTANCE "' holds -1 m)");
    o.distance_m = DIST_M;
    expect_fail("pixel missing", &o, PTY_ERR_HDF5, "--pixel-size");
    f = edit(p);
    pty_h5_write_scalar(f, PTY_CXI_PIXEL, NAN);
    H5Fclose(f);
    expect_fail("pixel NaN", &o, PTY_ERR_DATA, "detector pixel size must be positive (dataset '" PTY_CXI_PIXEL "' holds");

    p = tmp_path("maskprobe.cxi");
    write_good(p, L_NX3);
    f = edit(p);
    float m15[M * 15] = {0};
    static pty_cf p8[2 * 8 * 8];
    p8[0].re = 1.0f;
    hsize_t dm15[2] = {M, 15}, dp8[3] = {2, 8, 8}, dmm[2] = {M, M};
    pty_h5_write_float(f, "/m15", m15, 2, dm15);
    pty_h5_write_complex(f, "/p8", p8, 3, dp8);
    pty_h5_write_float(f, "/preal", small, 2, dmm);
    pty_h5_write_complex(f, "/pzero", (const pty_cf *)small, 2, dmm);
    H5Fclose(f);
    o = opts_for(p);
    o.mask = "/m15";
    expect_fail("mask 16x15", &o, PTY_ERR_HDF5, "mask dataset '/m15' has shape 16x15 but frames are 16x16");
    o.mask = "/nomask";
    expect_fail("named mask missing", &o, PTY_ERR_HDF5, "has no mask dataset '/nomask'");
    o.mask = PTY_CXI_MASK;
    o.probe = "/p8";
    expect_fail("probe 2x8x8", &o, PTY_ERR_HDF5, "probe dataset '/p8' has shape 2x8x8 but frames are 16x16");
    o.probe = "/preal";
    expect_fail("real probe", &o, PTY_ERR_HDF5, "probe dataset '/preal' is not complex");
    o.probe = "/pzero";
    expect_fail("zero probe", &o, PTY_ERR_DATA, "is zero everywhere");

    /* frames that carry nothing */
    p = tmp_path("empty.h5");
    float fr[N * MM];
    make_frames(fr, N);
    for (int i = 0; i < MM; i++) fr[2 * MM + i] = NAN;
    float zeros[N * MM] = {0};
    int allbad[MM];
    for (int i = 0; i < MM; i++) allbad[i] = 1;
    hsize_t dn2[2] = {N, 2};
    pty_h5_create(p, &f);
    pty_h5_write_frames(f, "/nanframe", fr, N, M);
    pty_h5_write_frames(f, "/zeros", zeros, N, M);
    pty_h5_write_int(f, "/allbad", allbad, 2, dmm);
    pty_h5_write_double(f, "/px", &want_rc[0][0], 2, dn2);
    H5Fclose(f);
    o = opts_for(p);
    o.positions = "/px";
    o.positions_px = 1;
    o.frames = "/nanframe";
    /* a frame without a usable pixel is left out (masked whole), with a warning: the scan still reads */
    pty_dataset *left = NULL;
    PTY_TEST("all-NaN frame: read, the frame left out",
             pty_dataset_read(&o, &left) == PTY_OK && left && left->amplitudes[2 * MM] == PTY_MASKED &&
                 left->amplitudes[2 * MM + MM - 1] == PTY_MASKED && left->amplitudes[0] != PTY_MASKED);
    pty_dataset_destroy(left);
    static const int two[] = {1, 2};
    o.frame_subset = two;
    o.n_subset = 2;
    left = NULL;
    PTY_TEST("all-NaN frame in a subset: read, left out",
             pty_dataset_read(&o, &left) == PTY_OK && left && left->amplitudes[MM] == PTY_MASKED);
    pty_dataset_destroy(left);
    o.frame_subset = NULL;
    o.n_subset = 0;
    o.frames = "/zeros";
    expect_fail("all-zero frames", &o, PTY_ERR_DATA, "every frame of '/zeros' is zero");
    /* a rank's share may be dark: the all-zero check is the caller's then */
    pty_dataset *dark = NULL;
    o.frame_subset = two;
    o.n_subset = 2;
    PTY_TEST("all-zero frames read as a subset", pty_dataset_read(&o, &dark) == PTY_OK && dark && dark->n_frames == 2);
    pty_dataset_destroy(dark);
    o.frame_subset = NULL;
    o.n_subset = 0;
    make_frames(fr, N);
    o.frames = PTY_CXI_FRAMES;
    f = edit(p);
    pty_h5_write_frames(f, PTY_CXI_FRAMES, fr, N, M);
    H5Fclose(f);
    o.mask = "/allbad";
    expect_fail("mask that hides everything", &o, PTY_ERR_DATA,
                "every frame of '" PTY_CXI_FRAMES "' is zero at all unmasked pixels (or has no usable pixel");
}

int main(void)
{
    pty_h5_init();
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/pty_test_cxi_XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_metres_nx3();
    test_metres_3xn();
    test_pixels();
    test_overrides();
    test_probe_and_mask();
    test_bad_pixels();
    test_uint16_and_chunks();
    test_subset();
    test_corrupt_chunk();
    test_errors();
    /* every reader path, failures included, must close what it opened */
    PTY_TEST("no HDF5 handles left open", H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
    for (int i = 0; i < n_tmp_files; i++) unlink(tmp_files[i]);
    PTY_TEST("temporary directory removed", rmdir(tmp_dir) == 0);
    return pty_test_report();
}
