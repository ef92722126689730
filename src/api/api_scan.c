/* api_scan.c - scans for the public interface: from a caller's arrays or
 * read from a CXI/HDF5 file by the same reader as `ptycho recon`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_types.h"
#include "pty_error.h"

static int scan_wrap(pty_dataset *d, const char *source, ptycho_scan **out)
{
    ptycho_scan *s = calloc(1, sizeof *s);
    char *copy = strdup(source);
    if (!s || !copy) {
        free(s);
        free(copy);
        pty_dataset_destroy(d);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate a scan");
    }
    s->data = d;
    s->source = copy;
    *out = s;
    return PTY_OK;
}

int ptycho_scan_create(int n_frames, int m, const float *intensities, const double *positions, const uint8_t *mask,
                       ptycho_scan **out)
{
    PTY_CHECK(out, PTY_ERR_ARG, "ptycho_scan_create: no place for the scan (out is NULL)");
    *out = NULL;
    PTY_CHECK(intensities && positions, PTY_ERR_ARG, "ptycho_scan_create: intensities and positions are required");
    PTY_CHECK(n_frames >= 1, PTY_ERR_ARG, "ptycho_scan_create: %d frames; a scan needs at least one", n_frames);
    PTY_CHECK(m >= PTY_MIN_FRAME && m <= PTY_MAX_FRAME, PTY_ERR_ARG,
              "ptycho_scan_create: frames of %dx%d; the side must be %d to %d pixels", m, m, PTY_MIN_FRAME,
              PTY_MAX_FRAME);
    for (int j = 0; j < n_frames; j++)
        PTY_CHECK(isfinite(positions[2 * (size_t)j]) && isfinite(positions[2 * (size_t)j + 1]), PTY_ERR_DATA,
                  "ptycho_scan_create: position %d is not finite (%g, %g)", j, positions[2 * (size_t)j],
                  positions[2 * (size_t)j + 1]);
    pty_dataset *d;
    PTY_TRY(pty_dataset_create(n_frames, m, &d));
    memcpy(d->positions, positions, (size_t)n_frames * 2 * sizeof *positions);
    for (int j = 0; j < n_frames; j++) pty_dataset_set_frame(d, j, intensities + (size_t)j * m * m, mask);
    if (!(pty_dataset_total_intensity(d) > 0.0)) {
        pty_dataset_destroy(d);
        return pty_error_set(PTY_ERR_DATA, "ptycho_scan_create: every frame is zero at all unmasked pixels");
    }
    return scan_wrap(d, "arrays", out);
}

int ptycho_scan_set_geometry(ptycho_scan *scan, double wavelength, double distance, double detector_pixel)
{
    PTY_CHECK(scan, PTY_ERR_ARG, "ptycho_scan_set_geometry: no scan");
    const double v[3] = {wavelength, distance, detector_pixel};
    static const char *const names[3] = {"wavelength", "distance", "detector pixel"};
    for (int i = 0; i < 3; i++)
        PTY_CHECK(isfinite(v[i]) && v[i] >= 0.0, PTY_ERR_ARG,
                  "ptycho_scan_set_geometry: the %s must be >= 0 metres (0 = unknown), got %g", names[i], v[i]);
    pty_dataset *d = scan->data;
    d->wavelength = wavelength;
    d->distance = distance;
    d->detector_pixel = detector_pixel;
    d->pixel_size = pty_object_pixel_size(wavelength, distance, d->m, detector_pixel);
    return PTY_OK;
}

int ptycho_scan_set_probe(ptycho_scan *scan, int n_modes, const ptycho_complex *probe)
{
    PTY_CHECK(scan && probe, PTY_ERR_ARG, "ptycho_scan_set_probe: no scan or no probe");
    PTY_CHECK(n_modes >= 1 && n_modes <= PTY_MAX_PROBE_MODES, PTY_ERR_ARG,
              "ptycho_scan_set_probe: %d modes; give 1 to %d", n_modes, PTY_MAX_PROBE_MODES);
    pty_dataset *d = scan->data;
    const size_t n = (size_t)n_modes * d->m * d->m;
    double power = 0.0;
    for (size_t i = 0; i < n; i++) {
        PTY_CHECK(isfinite(probe[i].re) && isfinite(probe[i].im), PTY_ERR_DATA,
                  "ptycho_scan_set_probe: probe element %zu is not finite", i);
        power += (double)probe[i].re * probe[i].re + (double)probe[i].im * probe[i].im;
    }
    PTY_CHECK(power > 0.0, PTY_ERR_DATA, "ptycho_scan_set_probe: the probe is zero everywhere");
    pty_cf *copy = malloc(n * sizeof *copy);
    PTY_CHECK(copy, PTY_ERR_NOMEM, "cannot allocate a %dx%dx%d probe", n_modes, d->m, d->m);
    _Static_assert(sizeof(ptycho_complex) == sizeof(pty_cf), "ptycho_complex is pty_cf");
    memcpy(copy, probe, n * sizeof *copy);
    free(d->probe);
    d->probe = copy;
    d->probe_modes = n_modes;
    return PTY_OK;
}

int ptycho_scan_read(const char *path, const ptycho_settings *s, ptycho_scan **out)
{
    PTY_CHECK(out, PTY_ERR_ARG, "ptycho_scan_read: no place for the scan (out is NULL)");
    *out = NULL;
    PTY_CHECK(path && path[0], PTY_ERR_ARG, "ptycho_scan_read: no file name");
    pty_api_config c;
    PTY_TRY(pty_api_config_from(s, &c));
    c.read.path = path;
    pty_dataset *d;
    PTY_TRY(pty_dataset_read(&c.read, &d));
    return scan_wrap(d, path, out);
}

int ptycho_scan_shape(const ptycho_scan *scan, int *n_frames, int *m)
{
    PTY_CHECK(scan, PTY_ERR_ARG, "ptycho_scan_shape: no scan");
    if (n_frames) *n_frames = scan->data->n_frames;
    if (m) *m = scan->data->m;
    return PTY_OK;
}

void ptycho_scan_destroy(ptycho_scan *scan)
{
    if (!scan) return;
    pty_dataset_destroy(scan->data);
    free(scan->source);
    free(scan);
}
