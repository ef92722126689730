/* sim_cxi.c - the simulator's CXI output: frames, geometry, ground truth.
 *
 * Written where CXI readers look (see sim_cxi.h), with the frames stored
 * once under the detector and linked into data_1, as beamline files do. */
#include "sim_cxi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "h5util.h"
#include "pty_error.h"
#include "staging.h"
#include "rng.h"

#define DET "/entry_1/instrument_1/detector_1"
#define GT "/entry_1/ground_truth"
#define TRANSLATION "/entry_1/sample_1/geometry_1/translation"

#ifndef PTY_VERSION
#define PTY_VERSION "unknown"
#endif

/* The parameters as string attributes of the ground-truth group. */
static int write_params(hid_t f, const pty_sim_params *p, const pty_simulation *sim)
{
    char v[64];
#define ATTR(name, ...)                                                 \
    do {                                                                \
        snprintf(v, sizeof v, __VA_ARGS__);                             \
        PTY_TRY(pty_h5_attr_string(f, GT, name, v));                    \
    } while (0)
    ATTR("generator", "ptycho simulate %s", PTY_VERSION);
    ATTR("rows", "%d", p->rows);
    ATTR("cols", "%d", p->cols);
    ATTR("step_px", "%.9g", pty_sim_step(p));
    ATTR("jitter_px", "%.9g", p->jitter);
    ATTR("position_error_px", "%.9g", p->position_error);
    ATTR("frame", "%d", p->m);
    ATTR("probe", "%s", pty_probe_kind_name(p->probe));
    ATTR("probe_diameter_px", "%.9g", sim->diameter_px);
    ATTR("probe_curvature_rad", "%.9g", sim->curvature_rad);
    ATTR("modes", "%d", p->modes);
    ATTR("mode_decay", "%.9g", p->mode_decay);
    ATTR("fly_steps", "%d", p->fly_steps);
    ATTR("fly_length_px", "%.9g", sim->fly_length_px);
    ATTR("photons", "%.9g", p->photons);
    ATTR("noise", "%s", p->poisson ? "poisson" : "none");
    ATTR("object", "%s", pty_object_kind_name(p->object.kind));
    ATTR("phase_max_rad", "%.9g", p->object.phase_max);
    ATTR("magnitude_min", "%.9g", p->object.magnitude_min);
    ATTR("energy_ev", "%.9g", p->energy_ev);
    ATTR("distance_m", "%.9g", p->distance_m);
    ATTR("detector_pixel_m", "%.9g", p->detector_pixel_m);
    ATTR("pad_px", "%d", p->pad);
    ATTR("seed", "%llu", (unsigned long long)p->seed);
#undef ATTR
    if (p->object.kind == PTY_OBJECT_TIFF) {
        PTY_TRY(pty_h5_attr_string(f, GT, "object_magnitude_file", p->object.magnitude_path));
        PTY_TRY(pty_h5_attr_string(f, GT, "object_phase_file", p->object.phase_path));
    }
    return PTY_OK;
}

static int write_all(hid_t f, const pty_sim_params *p, const pty_simulation *sim)
{
    const int n = sim->n, m = sim->m;
    const int version = 140;
    PTY_TRY(pty_h5_write_int(f, "/cxi_version", &version, 0, NULL));
    PTY_TRY(pty_h5_write_frames(f, DET "/data", sim->frames, (hsize_t)n, (hsize_t)m));
    PTY_TRY(pty_h5_soft_link(f, DET "/data", "/entry_1/data_1/data"));

    /* CXI translation: metres, (x, y, z) with x along columns, y along rows; the encoder's error
       (--position-error) from its own stream, so the frames do not depend on it */
    double *t = malloc((size_t)n * 3 * sizeof *t);
    PTY_CHECK(t, PTY_ERR_NOMEM, "cannot allocate %d translations", n);
    pty_rng rng;
    pty_rng_seed(&rng, p->seed ^ 0x9e3779b97f4a7c15ull);
    for (int j = 0; j < n; j++) {
        const double er = p->position_error > 0 ? p->position_error * pty_rng_normal(&rng) : 0.0;
        const double ec = p->position_error > 0 ? p->position_error * pty_rng_normal(&rng) : 0.0;
        t[3 * j + 0] = (sim->positions[2 * j + 1] + ec) * sim->pixel_size_m;
        t[3 * j + 1] = (sim->positions[2 * j + 0] + er) * sim->pixel_size_m;
        t[3 * j + 2] = 0.0;
    }
    hsize_t tdims[2] = {(hsize_t)n, 3};
    int rc = pty_h5_write_double(f, TRANSLATION, t, 2, tdims);
    free(t);
    PTY_TRY(rc);
    PTY_TRY(pty_h5_soft_link(f, TRANSLATION, "/entry_1/data_1/translation"));
    PTY_TRY(pty_h5_soft_link(f, TRANSLATION, DET "/translation"));

    PTY_TRY(pty_h5_write_scalar(f, "/entry_1/instrument_1/source_1/energy", p->energy_ev * PTY_EV_J));
    PTY_TRY(pty_h5_write_scalar(f, DET "/distance", p->distance_m));
    PTY_TRY(pty_h5_write_scalar(f, DET "/x_pixel_size", p->detector_pixel_m));
    PTY_TRY(pty_h5_write_scalar(f, DET "/y_pixel_size", p->detector_pixel_m));

    hsize_t odims[2] = {(hsize_t)sim->geom.obj_h, (hsize_t)sim->geom.obj_w};
    PTY_TRY(pty_h5_write_complex(f, GT "/object", sim->object, 2, odims));
    hsize_t two = 2;
    PTY_TRY(pty_h5_write_double(f, GT "/object_position_origin", sim->geom.origin, 1, &two));
    hsize_t pdims[3] = {(hsize_t)sim->modes, (hsize_t)m, (hsize_t)m};
    PTY_TRY(pty_h5_write_complex(f, GT "/probe", sim->probe, 3, pdims));
    hsize_t xdims[2] = {(hsize_t)n, 2};
    PTY_TRY(pty_h5_write_double(f, GT "/positions_px", sim->positions, 2, xdims));
    PTY_TRY(pty_h5_write_scalar(f, GT "/object_pixel_size", sim->pixel_size_m));
    return write_params(f, p, sim);
}

int pty_sim_write_cxi(const char *path, const pty_sim_params *p, const pty_simulation *sim)
{
    PTY_CHECK(path && *path, PTY_ERR_ARG, "ptycho simulate needs --output FILE.cxi");
    char tmp[4300];
    PTY_TRY(pty_stage(path, tmp, sizeof tmp));
    hid_t f = -1;
    int rc = pty_h5_create(tmp, &f);
    if (rc != PTY_OK)
        return pty_stage_close(tmp, pty_error_set(PTY_ERR_IO, "cannot create '%s' (is the directory there and writable?)", path));
    rc = write_all(f, p, sim);
    if (H5Fclose(f) < 0 && rc == PTY_OK) rc = pty_error_set(PTY_ERR_IO, "cannot finish writing '%s' (disk full?)", tmp);
    if (rc != PTY_OK) pty_error_context("writing '%s'", path);
    return pty_stage_close(tmp, rc);
}
