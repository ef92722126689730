/* partition.h - split a scan into a 2-D grid of blocks, one per rank.
 *
 * Blocks are cut along rows and columns of the probe positions at
 * quantiles, so each holds about the same number of positions, and the
 * cuts fall between scan lines when the scan is a raster.  Each block then
 * takes, besides its own (core) positions, every position within `overlap`
 * scan steps of its core box: the halo that makes neighbouring partial
 * objects overlap (DESIGN.md §3).  Pure geometry, no MPI: every rank
 * computes the same partition from the same positions. */
#ifndef PTY_PARTITION_H
#define PTY_PARTITION_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_partition {
    int rows, cols;     /* block grid; block b sits at (b / cols, b % cols) */
    int n_blocks;       /* rows * cols */
    double *row_cuts;   /* rows + 1 position-row coordinates; block row i holds row_cuts[i] <= y < row_cuts[i+1]
                           (the outer two are -inf and +inf) */
    double *col_cuts;   /* cols + 1, likewise for columns */
    double step;        /* scan step estimate, pixels: sqrt(scan area / positions) */
    double halo;        /* overlap * step, pixels */
    int *owner;         /* n_positions: the block whose core holds each position */
    int *n_members;     /* per block: number of core + halo positions */
    int **members;      /* per block: strictly increasing position indices (core + halo) */
    int *n_core;        /* per block: core positions */
} pty_partition;

/* Choose rows x cols for n_blocks so blocks of the scan's bounding box are
 * as square as possible (ties: more rows, i.e. horizontal strips, which
 * keeps a raster's frames contiguous in the file). */
void pty_partition_shape(const double *positions, int n, int n_blocks, int *rows, int *cols);

/* Partition n positions ((row, col) pixels, n x 2) into rows x cols blocks
 * (rows = cols = 0: pty_partition_shape) with a halo of `overlap` scan steps.
 * Errors (PTY_ERR_ARG, naming --partition/--overlap): a grid that does not
 * match n_blocks, a negative overlap, or a block left without positions. */
int pty_partition_create(const double *positions, int n, int n_blocks, int rows, int cols, double overlap,
                         pty_partition *out);
void pty_partition_free(pty_partition *p);

#ifdef __cplusplus
}
#endif
#endif /* PTY_PARTITION_H */
