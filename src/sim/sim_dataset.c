/* sim_dataset.c - pty_simulation -> pty_dataset. */
#include "sim_dataset.h"

#include <string.h>

#include "pty_error.h"

int pty_dataset_from_simulation(pty_simulation *sim, pty_dataset **out)
{
    float *frames = sim->frames;
    sim->frames = NULL;
    PTY_TRY(pty_dataset_adopt(sim->n, sim->m, frames, out));
    pty_dataset *d = *out;
    memcpy(d->positions, sim->positions, (size_t)sim->n * 2 * sizeof *d->positions);
    d->wavelength = sim->wavelength_m;
    d->pixel_size = sim->pixel_size_m;
    return PTY_OK;
}
