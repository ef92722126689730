/* sim_dataset.c - pty_simulation -> pty_dataset. */
#include "sim_dataset.h"

#include <string.h>

#include "pty_error.h"

int pty_dataset_from_simulation(const pty_simulation *sim, pty_dataset **out)
{
    PTY_TRY(pty_dataset_create(sim->n, sim->m, out));
    pty_dataset *d = *out;
    const size_t mm = (size_t)sim->m * sim->m;
    for (int j = 0; j < sim->n; j++) pty_dataset_set_frame(d, j, sim->frames + j * mm, NULL);
    memcpy(d->positions, sim->positions, (size_t)sim->n * 2 * sizeof *d->positions);
    d->wavelength = sim->wavelength_m;
    d->pixel_size = sim->pixel_size_m;
    return PTY_OK;
}
