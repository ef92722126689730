/* result_write.h - the files a reconstruction leaves behind.
 *
 * HDF5 result (one file, everything needed to score, resume or publish):
 *   /object (H, W) complex64      /object_position_origin (2,) f64
 *   /probe (K, M, M) complex64    /probe_mode_power (K,) f64, share of the total
 *   /positions_px (N, 2) f64      probe centres (row, col) relative to the origin
 *   /positions_refined_px (N, 2) f64  the same after position correction (only with it)
 *   /error (iterations,) f64      Fourier error per iteration
 *   /pixel_size f64 (m, 0 = unknown), /parameters (attributes), /timings/...
 *   /weight (H, W) f32, partial results only: the block's blending weight
 * TIFFs (float32, Fiji/tifffile): <prefix>_object_phase.tif,
 *   <prefix>_object_magnitude.tif, <prefix>_probe_modes.tif (|P_k|, a page a mode);
 *   PNG quick-look (8-bit, 0.5-99.5 percentile range): <prefix>_object_phase.png.
 * Every file is written under a temporary name and renamed when complete. */
#ifndef PTY_RESULT_WRITE_H
#define PTY_RESULT_WRITE_H

#include <hdf5.h>

#include "distributed.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_result {
    const pty_cf *object;
    int obj_h, obj_w;
    double origin[2];
    const pty_cf *probe;
    int n_modes, m;
    const double *errors;
    int n_errors;
    const double *positions; /* N*2 (row, col) probe centres */
    const double *refined_positions; /* N*2 where position correction moved them, or NULL */
    int n_positions;
    double pixel_size;
    const char *backend;
    const char *input;
    const char *command_line;
    double read_s, setup_s, iterate_s;
    const pty_recon_params *params;
    const char *probe_start;  /* how the first probe was chosen (probe_guess.h), may be NULL */
    const float *weight;     /* obj_h*obj_w blending weight of a partial result (may be NULL) */
    /* multi-rank run (may be NULL): written under /mpi, see pty_result_write_mpi */
    const pty_dist_result *dist;
    const pty_dist_options *dist_options;
    int n_ranks;
    const pty_detector_info *detector; /* how the frames were made from the detector's (may be NULL) */
    double wavelength, distance;       /* m, 0 when unknown (the ptychodus product states them) */
    int iterations_done;               /* > 0: a checkpoint, to resume from (--init-from) */
    const uint64_t *rng_state;         /* a checkpoint's random generator (4 words), or NULL */
} pty_result;

/* /mpi: mode, partition (rows, cols), row_cuts_px/col_cuts_px (interior
 * cuts, in position pixels), overlap, per-rank arrays (rank_n_core,
 * rank_n_positions, rank_box (P, 4: row, col, h, w on the object grid),
 * rank_read_s, rank_setup_s, rank_compute_s, rank_comm_s, rank_merge_s, rank_share_s,
 * rank_bytes_sent), bytes_per_share, bytes_copied_per_share, and
 * /mpi/merges/{into, from, shift, phase, amplitude, ramp, error, accepted,
 * disagree, overlap_px, seconds}. */
int pty_result_write_mpi(hid_t file, const pty_dist_result *d, const pty_dist_options *o, int n_ranks);

int pty_result_write_h5(const char *path, const pty_result *r);

/* One rank's block (before the merge) as a result file of its own, on its
 * own box, with its /weight: input for `ptycho stitch`. */
int pty_result_write_block(const char *path, const pty_dist_block *b);
int pty_result_write_tiffs(const char *prefix, const pty_result *r);

/* The result as a ptychodus product file (product_write.c): object, probe
 * modes, positions in metres, geometry, loss; ptychodus opens it, and
 * `ptycho recon --init-from` starts from it.  Staged like the others. */
int pty_result_write_product(const char *path, const pty_result *r);

#ifdef __cplusplus
}
#endif
#endif /* PTY_RESULT_WRITE_H */
