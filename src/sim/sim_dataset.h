/* sim_dataset.h - a simulation straight into memory, ready to reconstruct,
 * without writing a file (ptycho bench; tests). */
#ifndef PTY_SIM_DATASET_H
#define PTY_SIM_DATASET_H

#include "dataset.h"
#include "simulate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Amplitudes (sqrt of the frames, FFT order), positions and geometry of
 * `sim` as a new dataset (no probe: the reconstruction finds its own).  The
 * frames move into the dataset (sim->frames is NULL after, on failure too):
 * at the seed size a copy would hold 5.1 GiB twice.  Errors: PTY_ERR_NOMEM. */
int pty_dataset_from_simulation(pty_simulation *sim, pty_dataset **out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_SIM_DATASET_H */
