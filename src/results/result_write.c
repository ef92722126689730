/* result_write.c - HDF5 result file and TIFF images of a reconstruction. */
#include "result_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "modes.h"
#include "pty_error.h"
#include "png_write.h"
#include "tiff_io.h"

/* An empty group for attributes. */
static int create_group(hid_t f, const char *g)
{
    hid_t grp = H5Gcreate2(f, g, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (grp < 0) return pty_error_set(PTY_ERR_IO, "cannot create group '%s'", g);
    H5Gclose(grp);
    return PTY_OK;
}

static int write_parameters(hid_t f, const pty_result *r)
{
    const pty_recon_params *p = r->params;
    const char *g = "/parameters";
    PTY_TRY(create_group(f, g));
    PTY_TRY(pty_h5_attr_double(f, g, "modes", p->n_modes));
    PTY_TRY(pty_h5_attr_double(f, g, "iterations", r->n_errors));
    PTY_TRY(pty_h5_attr_double(f, g, "alpha", p->alpha));
    PTY_TRY(pty_h5_attr_double(f, g, "beta", p->beta));
    PTY_TRY(pty_h5_attr_double(f, g, "rpie", p->rpie));
    PTY_TRY(pty_h5_attr_string(f, g, "obj_norm", p->obj_norm == PTY_OBJNORM_GLOBAL ? "global" : "patch"));
    PTY_TRY(pty_h5_attr_double(f, g, "probe_start", p->probe_start));
    PTY_TRY(pty_h5_attr_double(f, g, "mode_power", p->mode_power));
    PTY_TRY(pty_h5_attr_double(f, g, "ortho_every", p->ortho_every));
    PTY_TRY(pty_h5_attr_double(f, g, "seed", (double)p->seed));
    PTY_TRY(pty_h5_attr_double(f, g, "pad", p->pad));
    PTY_TRY(pty_h5_attr_double(f, g, "probe_diameter", p->probe_diameter));
    PTY_TRY(pty_h5_attr_double(f, g, "center_probe", p->center_probe));
    PTY_TRY(pty_h5_attr_double(f, g, "position_correction", p->position_start));
    PTY_TRY(pty_h5_attr_double(f, g, "position_max_step", p->position_max_step));
    PTY_TRY(pty_h5_attr_double(f, g, "position_affine", p->position_affine));
    PTY_TRY(pty_h5_attr_string(f, g, "fft_wisdom", p->fft_wisdom ? p->fft_wisdom : ""));
    PTY_TRY(pty_h5_attr_string(f, g, "order", pty_order_names[p->order]));
    PTY_TRY(pty_h5_attr_string(f, g, "probe_start_how", r->probe_start ? r->probe_start : ""));
    PTY_TRY(pty_h5_attr_string(f, g, "backend", r->backend));
    PTY_TRY(pty_h5_attr_string(f, g, "input", r->input ? r->input : ""));
    PTY_TRY(pty_h5_attr_string(f, g, "command_line", r->command_line ? r->command_line : ""));
    PTY_TRY(pty_h5_attr_string(f, g, "version", PTY_VERSION));
    return PTY_OK;
}

/* How the frames were made from the detector's images (detector_prep.h). */
static int write_detector(hid_t f, const pty_detector_info *d)
{
    const char *g = "/detector_preparation";
    PTY_TRY(create_group(f, g));
    PTY_TRY(pty_h5_attr_double(f, g, "detector_height", d->height));
    PTY_TRY(pty_h5_attr_double(f, g, "detector_width", d->width));
    PTY_TRY(pty_h5_attr_double(f, g, "bin", d->bin));
    PTY_TRY(pty_h5_attr_double(f, g, "window_first_row", d->r0));
    PTY_TRY(pty_h5_attr_double(f, g, "window_first_col", d->c0));
    PTY_TRY(pty_h5_attr_double(f, g, "centre_row", d->centre[0]));
    PTY_TRY(pty_h5_attr_double(f, g, "centre_col", d->centre[1]));
    PTY_TRY(pty_h5_attr_string(f, g, "centre_from", d->centre_from));
    PTY_TRY(pty_h5_attr_double(f, g, "saturation", d->saturation));
    PTY_TRY(pty_h5_attr_string(f, g, "saturation_from", d->saturation_from));
    PTY_TRY(pty_h5_attr_double(f, g, "saturated_pixels", (double)d->saturated));
    PTY_TRY(pty_h5_attr_string(f, g, "dark", d->dark));
    return pty_h5_attr_string(f, g, "mask", d->mask);
}

static int write_all(hid_t f, const pty_result *r)
{
    hsize_t obj_dims[2] = {(hsize_t)r->obj_h, (hsize_t)r->obj_w};
    hsize_t probe_dims[3] = {(hsize_t)r->n_modes, (hsize_t)r->m, (hsize_t)r->m};
    hsize_t two = 2, k = (hsize_t)r->n_modes, ne = (hsize_t)r->n_errors;
    hsize_t pos_dims[2] = {(hsize_t)r->n_positions, 2};
    PTY_TRY(pty_h5_write_complex(f, "/object", r->object, 2, obj_dims));
    PTY_TRY(pty_h5_write_double(f, "/object_position_origin", r->origin, 1, &two));
    PTY_TRY(pty_h5_write_complex(f, "/probe", r->probe, 3, probe_dims));
    double *share = malloc((size_t)r->n_modes * sizeof *share);
    PTY_CHECK(share, PTY_ERR_NOMEM, "cannot allocate %d mode shares", r->n_modes);
    pty_modes_power_share(r->probe, r->n_modes, (size_t)r->m * r->m, share);
    int rc = pty_h5_write_double(f, "/probe_mode_power", share, 1, &k);
    free(share);
    PTY_TRY(rc);
    PTY_TRY(pty_h5_write_double(f, "/positions_px", r->positions, 2, pos_dims));
    if (r->refined_positions) PTY_TRY(pty_h5_write_double(f, "/positions_refined_px", r->refined_positions, 2, pos_dims));
    if (ne > 0) PTY_TRY(pty_h5_write_double(f, "/error", r->errors, 1, &ne));
    PTY_TRY(pty_h5_write_scalar(f, "/pixel_size", r->pixel_size));
    if (r->weight) PTY_TRY(pty_h5_write_float(f, "/weight", r->weight, 2, obj_dims));
    PTY_TRY(pty_h5_write_scalar(f, "/timings/read_s", r->read_s));
    PTY_TRY(pty_h5_write_scalar(f, "/timings/setup_s", r->setup_s));
    PTY_TRY(pty_h5_write_scalar(f, "/timings/iterate_s", r->iterate_s));
    PTY_TRY(pty_h5_write_scalar(f, "/timings/seconds_per_iteration", ne ? r->iterate_s / (double)ne : 0.0));
    if (r->dist) PTY_TRY(pty_result_write_mpi(f, r->dist, r->dist_options, r->n_ranks));
    if (r->detector && r->detector->height > 0) PTY_TRY(write_detector(f, r->detector));
    if (r->iterations_done > 0) {
        PTY_TRY(pty_h5_write_scalar(f, "/checkpoint/iterations_done", r->iterations_done));
        if (r->rng_state) {
            char hex[80];
            snprintf(hex, sizeof hex, "%016llx%016llx%016llx%016llx", (unsigned long long)r->rng_state[0],
                     (unsigned long long)r->rng_state[1], (unsigned long long)r->rng_state[2],
                     (unsigned long long)r->rng_state[3]);
            PTY_TRY(pty_h5_attr_string(f, "/checkpoint", "rng_state", hex));
        }
    }
    return write_parameters(f, r);
}

static int fill_result(hid_t f, const void *r) { return write_all(f, r); }

int pty_result_write_h5(const char *path, const pty_result *r)
{
    return pty_h5_write_staged(path, fill_result, r);
}

int pty_result_write_tiffs(const char *prefix, const pty_result *r)
{
    const size_t nobj = (size_t)r->obj_h * r->obj_w, npix = (size_t)r->m * r->m;
    float *buf = malloc((nobj > npix * r->n_modes ? nobj : npix * r->n_modes) * sizeof *buf);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate TIFF buffers");
    char path[4096], desc[256];
    int rc = PTY_OK;
    snprintf(desc, sizeof desc, "ptycho %s: object phase (rad)", PTY_VERSION);
    for (size_t i = 0; i < nobj; i++) buf[i] = atan2f(r->object[i].im, r->object[i].re);
    snprintf(path, sizeof path, "%s_object_phase.tif", prefix);
    if ((rc = pty_tiff_write_float(path, buf, 1, r->obj_h, r->obj_w, r->pixel_size, desc)) != PTY_OK) goto done;
    snprintf(path, sizeof path, "%s_object_phase.png", prefix);
    if ((rc = pty_png_write_gray(path, buf, r->obj_h, r->obj_w, 0.0f, 0.0f)) != PTY_OK) goto done;
    snprintf(desc, sizeof desc, "ptycho %s: object magnitude", PTY_VERSION);
    for (size_t i = 0; i < nobj; i++) buf[i] = sqrtf(pty_cabs2(r->object[i]));
    snprintf(path, sizeof path, "%s_object_magnitude.tif", prefix);
    if ((rc = pty_tiff_write_float(path, buf, 1, r->obj_h, r->obj_w, r->pixel_size, desc)) != PTY_OK) goto done;
    snprintf(desc, sizeof desc, "ptycho %s: probe mode magnitudes |P_k|, one page per mode, strongest first",
             PTY_VERSION);
    for (size_t i = 0; i < npix * r->n_modes; i++) buf[i] = sqrtf(pty_cabs2(r->probe[i]));
    snprintf(path, sizeof path, "%s_probe_modes.tif", prefix);
    rc = pty_tiff_write_float(path, buf, r->n_modes, r->m, r->m, r->pixel_size, desc);
done:
    free(buf);
    return rc;
}
