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
    pty_dataset_destroy(d);
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
    expect_fail("non-square frames", &o, PTY_ERR_HDF5, "frames dataset '/nonsq' has non-square frames 16x12");
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
    expect_fail("all-NaN frame", &o, PTY_ERR_DATA, "frame 2 of '/nanframe' has no valid pixel");
    o.frames = "/zeros";
    expect_fail("all-zero frames", &o, PTY_ERR_DATA, "every frame of '/zeros' is zero");
    make_frames(fr, N);
    o.frames = PTY_CXI_FRAMES;
    f = edit(p);
    pty_h5_write_frames(f, PTY_CXI_FRAMES, fr, N, M);
    H5Fclose(f);
    o.mask = "/allbad";
    expect_fail("mask that hides everything", &o, PTY_ERR_DATA, "frame 0 of '" PTY_CXI_FRAMES "' has no valid pixel");
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
    test_errors();
    /* every reader path, failures included, must close what it opened */
    PTY_TEST("no HDF5 handles left open", H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
    for (int i = 0; i < n_tmp_files; i++) unlink(tmp_files[i]);
    PTY_TEST("temporary directory removed", rmdir(tmp_dir) == 0);
    return pty_test_report();
}
