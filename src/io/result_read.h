/* result_read.h - what `ptycho compare` and `ptycho stitch` read back.
 *
 * A result file (written by ptycho recon or stitch) has /object,
 * /object_position_origin, /probe and /positions_px; a simulated scan has
 * the same under /entry_1/ground_truth.  Multi-rank results also carry the
 * lines where blocks were joined (/mpi/row_cuts_px, /mpi/col_cuts_px). */
#ifndef PTY_RESULT_READ_H
#define PTY_RESULT_READ_H

#include <stdint.h>

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_result_file {
    pty_cf *object;
    int h, w;
    double origin[2];  /* object (row, col) of position (0, 0) */
    pty_cf *probe;     /* n_modes x m x m */
    int n_modes, m;
    double *positions; /* n x 2 (row, col) px relative to the origin */
    int n_positions;
    float *weight;     /* h x w blending weight of a partial result; NULL when the file has none */
    double *cuts;      /* with `seams`: row cuts then column cuts, position pixels */
    double pixel_size; /* m: /pixel_size of a result, object_pixel_size of a ground truth; 0 unknown */
    int n_row_cuts, n_col_cuts;
    double *errors;     /* the error history (/error; a product's loss_values), or NULL */
    int n_errors;
    int iterations_done; /* a checkpoint's (/checkpoint/iterations_done), else 0 */
    uint64_t rng_state[4]; /* a checkpoint's random generator, when has_rng */
    int has_rng;
    int product;         /* 1: read from a ptychodus product file */
} pty_result_file;

/* Read `fname`.  A ptychodus product file (its /object has center_x_m) is
 * read too: the first layer of its object, the first coherent mode's
 * incoherent modes, positions from metres, the origin from the object's
 * centre (product_write.c states the mapping).  truth = 1 prefers the ground-truth group of a simulated
 * scan; truth = 0 prefers /object (a simulated scan stands in as a result
 * when it has no /object).  seams = 1 also reads the cut lines and fails
 * (PTY_ERR_ARG) when there are none.  Errors name the file and dataset;
 * free with pty_result_file_free in any case. */
int pty_result_read(const char *fname, int truth, int seams, pty_result_file *o);
void pty_result_file_free(pty_result_file *o);

/* Results made from one object share its pixel: PTY_ERR_DATA, naming both
 * files and sizes, when a's and b's pixel sizes are both known and differ
 * by more than 0.1 % (a pixel's drift over 1000 pixels; one scan's parts
 * share it exactly).  `what`: what the caller was about to do with them. */
int pty_result_check_pixels(const pty_result_file *a, const char *name_a, const pty_result_file *b,
                            const char *name_b, const char *what);

#ifdef __cplusplus
}
#endif
#endif /* PTY_RESULT_READ_H */
