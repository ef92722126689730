/* product_write.c - a result as a ptychodus product file.
 *
 * ptychodus (APS) opens a reconstruction as a "product": one HDF5 file whose
 * root holds the object (layers, rows, cols), the probe (coherent modes,
 * incoherent modes, rows, cols), the probe positions in metres with their
 * scan indexes, and the geometry as attributes in SI units and eV.  Its
 * reader maps a position to the object by x_px = (x - center_x_m) /
 * pixel_width_m + (W - 1)/2 and places the probe's (w - 1)/2 there; ptycho
 * places its probe's centre pixel m/2 at origin + position.  So positions
 * are written as ptycho's times the pixel size, and the object's centre
 * (center_x_m) as pixel_size * (W/2 - origin_col): the window lands on the
 * same object pixels in both.  Both energy keys are written (photon_energy_eV
 * since ptychodus 1.7, probe_energy_eV before), so every release reads it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "pty_error.h"
#include "result_write.h"


typedef struct product {
    const pty_result *r;
    char name[256]; /* the file's name without its folder and .h5 */
} product;

static int write_product(hid_t f, const void *ctx)
{
    const product *pr = ctx;
    const pty_result *r = pr->r;
    const char *name = pr->name;
    const double dx = r->pixel_size;
    char comments[4200];
    snprintf(comments, sizeof comments, "ptycho %s: %s", PTY_VERSION, r->command_line ? r->command_line : "");
    PTY_TRY(pty_h5_attr_text(f, ".", "name", name));
    PTY_TRY(pty_h5_attr_text(f, ".", "comments", comments));
    const double energy_ev = r->wavelength > 0.0 ? PTY_HC_J_M / (r->wavelength * PTY_EV_J) : 0.0;
    const struct { const char *name; double value; } attrs[] = {
        {"detector_object_distance_m", r->distance}, {"photon_energy_eV", energy_ev}, {"probe_energy_eV", energy_ev},
        {"probe_photon_count", 0.0}, {"exposure_time_s", 0.0}, {"mass_attenuation_m2_per_kg", 0.0},
        {"tomography_angle_deg", 0.0}, {"focus_object_distance_m", 0.0}, {"tilt_angle_deg", 0.0}, {"far_field", 1.0},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) PTY_TRY(pty_h5_attr_double(f, ".", attrs[i].name, attrs[i].value));

    const hsize_t probe_dims[4] = {1, (hsize_t)r->n_modes, (hsize_t)r->m, (hsize_t)r->m};
    PTY_TRY(pty_h5_write_complex(f, "/probe", r->probe, 4, probe_dims));
    PTY_TRY(pty_h5_attr_double(f, "/probe", "pixel_width_m", dx));
    PTY_TRY(pty_h5_attr_double(f, "/probe", "pixel_height_m", dx));
    const hsize_t obj_dims[3] = {1, (hsize_t)r->obj_h, (hsize_t)r->obj_w};
    PTY_TRY(pty_h5_write_complex(f, "/object", r->object, 3, obj_dims));
    PTY_TRY(pty_h5_attr_double(f, "/object", "pixel_width_m", dx));
    PTY_TRY(pty_h5_attr_double(f, "/object", "pixel_height_m", dx));
    PTY_TRY(pty_h5_attr_double(f, "/object", "center_x_m", dx * (r->obj_w / 2.0 - r->origin[1])));
    PTY_TRY(pty_h5_attr_double(f, "/object", "center_y_m", dx * (r->obj_h / 2.0 - r->origin[0])));
    const hsize_t none = 0;
    const double nothing = 0.0; /* one layer: no spacings */
    PTY_TRY(pty_h5_write_double(f, "/object_layer_spacing_m", &nothing, 1, &none));

    const int n = r->n_positions;
    const double *pos = r->refined_positions ? r->refined_positions : r->positions;
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    int *index = malloc((size_t)n * sizeof *index);
    int rc = x && y && index ? PTY_OK : pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d positions", n);
    for (int j = 0; rc == PTY_OK && j < n; j++) {
        y[j] = dx * pos[2 * (size_t)j];
        x[j] = dx * pos[2 * (size_t)j + 1];
        index[j] = j;
    }
    const hsize_t hn = (hsize_t)n;
    if (rc == PTY_OK) rc = pty_h5_write_int(f, "/probe_position_indexes", index, 1, &hn);
    if (rc == PTY_OK) rc = pty_h5_write_double(f, "/probe_position_x_m", x, 1, &hn);
    if (rc == PTY_OK) rc = pty_h5_write_double(f, "/probe_position_y_m", y, 1, &hn);
    free(x);
    free(y);
    free(index);
    PTY_TRY(rc);
    const hsize_t ne = (hsize_t)r->n_errors;
    int *epochs = malloc((ne ? ne : 1) * sizeof *epochs);
    PTY_CHECK(epochs, PTY_ERR_NOMEM, "cannot allocate %d epochs", r->n_errors);
    for (int i = 0; i < r->n_errors; i++) epochs[i] = i;
    rc = pty_h5_write_int(f, "/loss_epochs", epochs, 1, &ne);
    free(epochs);
    PTY_TRY(rc);
    return pty_h5_write_double(f, "/loss_values", r->errors, 1, &ne);
}

int pty_result_write_product(const char *path, const pty_result *r)
{
    PTY_CHECK(r->pixel_size > 0.0, PTY_ERR_DATA,
              "cannot write the ptychodus product '%s': the object pixel size is unknown (give --energy, --distance "
              "and --pixel-size)",
              path);
    product pr = {.r = r};
    const char *base = strrchr(path, '/');
    snprintf(pr.name, sizeof pr.name, "%s", base ? base + 1 : path);
    char *dot = strstr(pr.name, ".h5");
    if (dot) *dot = '\0';
    return pty_h5_write_staged(path, write_product, &pr);
}
