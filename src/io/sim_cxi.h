/* sim_cxi.h - write a simulated scan and its ground truth as a CXI file.
 *
 * Layout (SI units; DESIGN.md §2):
 *   /cxi_version                                  140
 *   /entry_1/instrument_1/detector_1/data         (N, M, M) float32, gzip, detector-centred
 *   /entry_1/data_1/data                          -> soft link to the above
 *   /entry_1/sample_1/geometry_1/translation      (N, 3) float64 m, columns (x, y, z) =
 *                                                 (col dx, row dx, 0); soft-linked at
 *                                                 data_1/translation and detector_1/translation
 *   /entry_1/instrument_1/source_1/energy         J
 *   /entry_1/instrument_1/detector_1/distance, x_pixel_size, y_pixel_size   m
 *   /entry_1/ground_truth/object                  (H, W) complex (r, i compound)
 *   /entry_1/ground_truth/object_position_origin  (2,) float64: object-grid (row, col) of position (0, 0)
 *   /entry_1/ground_truth/probe                   (K, M, M) complex, centred
 *   /entry_1/ground_truth/positions_px            (N, 2) float64 exact probe centres (row, col)
 *   /entry_1/ground_truth/object_pixel_size       m
 * with the simulation parameters as string attributes of ground_truth.  No
 * illumination is written: a reconstruction must not start from the truth. */
#ifndef PTY_SIM_CXI_H
#define PTY_SIM_CXI_H

#include "simulate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write to "<path>.tmp", then rename to path: never a half-written file.
 * PTY_ERR_IO names the path on failure (the tmp file is removed). */
int pty_sim_write_cxi(const char *path, const pty_sim_params *p, const pty_simulation *sim);

#ifdef __cplusplus
}
#endif
#endif /* PTY_SIM_CXI_H */
