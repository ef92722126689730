/* test_partition.c - the scan split into blocks: balance, cuts between scan
 * lines, halos, every position owned once, and the error messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"
#include "partition.h"
#include "pty_error.h"
#include "pty_test.h"

/* rows x cols raster, step 6 px, optional +-1 px jitter pattern */
static double *raster(int rows, int cols, int jitter)
{
    double *p = malloc(sizeof(double) * 2 * rows * cols);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int j = r * cols + c;
            p[2 * j] = 6.0 * r + (jitter ? (j % 3) - 1 : 0);
            p[2 * j + 1] = 6.0 * c + (jitter ? ((j / 3) % 3) - 1 : 0);
        }
    return p;
}

int main(void)
{
    double *pos = raster(16, 16, 1);
    pty_partition part;
    int rows, cols;

    pty_partition_shape(pos, 256, 4, &rows, &cols);
    PTY_TEST("4 blocks of a square scan: 2x2", rows == 2 && cols == 2);
    pty_partition_shape(pos, 256, 2, &rows, &cols);
    PTY_TEST("2 blocks: horizontal strips (2x1)", rows == 2 && cols == 1);
    double *wide = raster(4, 32, 0);
    pty_partition_shape(wide, 128, 4, &rows, &cols);
    PTY_TEST("4 blocks of a 4x32 scan: 1x4", rows == 1 && cols == 4);
    free(wide);

    PTY_TEST("16 blocks, 2 steps of halo", pty_partition_create(pos, 256, 16, 0, 0, 2.0, &part) == PTY_OK);
    int owned_once = 1, balanced = 1, sorted = 1;
    int *count = calloc(256, sizeof *count);
    for (int b = 0; b < part.n_blocks; b++) {
        balanced &= part.n_core[b] == 16;
        for (int i = 0; i < part.n_members[b]; i++) {
            if (i > 0 && part.members[b][i] <= part.members[b][i - 1]) sorted = 0;
            if (part.owner[part.members[b][i]] == b) count[part.members[b][i]]++;
        }
    }
    for (int j = 0; j < 256; j++) owned_once &= count[j] == 1;
    free(count);
    PTY_TEST("every block owns 16 positions (4 scan rows x 4 columns)", balanced);
    PTY_TEST("every position is owned by exactly one block, and is its member", owned_once);
    PTY_TEST("member lists are strictly increasing (hyperslab reads)", sorted);
    /* cuts fall between scan lines: row cut 1 between rows 3 and 4 (y 18 +-1 and 24 +-1) */
    PTY_TEST("cuts lie between scan lines", part.row_cuts[1] > 19.0 && part.row_cuts[1] < 23.0);
    /* an interior block: 4 own rows + 2 halo rows each side = 8 x 8 */
    PTY_TEST("interior block holds core + 2 halo lines a side (64)", part.n_members[5] == 64);
    PTY_TEST("corner block holds 6 x 6 = 36", part.n_members[0] == 36);
    pty_partition_free(&part);

    PTY_TEST("no halo: members = core", pty_partition_create(pos, 256, 4, 2, 2, 0.0, &part) == PTY_OK &&
                                             part.n_members[0] == 64 && part.n_members[3] == 64);
    pty_partition_free(&part);

    /* geometry of a block: a box of the global grid, same windows */
    pty_geometry global, sub;
    int off[2];
    PTY_TEST("global geometry", pty_geometry_create(pos, 256, 32, 4, &global) == PTY_OK);
    pty_partition_create(pos, 256, 4, 2, 2, 1.0, &part);
    int b = 3;
    PTY_TEST("block geometry", pty_geometry_subset(&global, part.members[b], part.n_members[b], 32, 4, &sub, off) ==
                                   PTY_OK);
    int same = 1, inside = 1;
    for (int i = 0; i < sub.n; i++)
        for (int a = 0; a < 2; a++) {
            same &= sub.window[2 * i + a] + off[a] == global.window[2 * part.members[b][i] + a];
            inside &= sub.window[2 * i + a] >= 0 && sub.window[2 * i + a] + 32 <= (a ? sub.obj_w : sub.obj_h);
        }
    PTY_TEST("block windows = global windows - offset", same);
    PTY_TEST("block windows inside the block's box", inside);
    PTY_TEST("block origin = global origin - offset",
             sub.origin[0] == global.origin[0] - off[0] && sub.origin[1] == global.origin[1] - off[1]);
    /* the global grid rounds its size up, so it may reach a pixel or two further */
    PTY_TEST("bottom-right block's box ends at the global edge",
             off[0] + sub.obj_h <= global.obj_h && off[0] + sub.obj_h >= global.obj_h - 2 &&
                 off[1] + sub.obj_w <= global.obj_w && off[1] + sub.obj_w >= global.obj_w - 2);
    pty_geometry_free(&sub);
    pty_geometry_free(&global);
    pty_partition_free(&part);

    /* errors */
    int rc = pty_partition_create(pos, 256, 6, 4, 2, 2.0, &part);
    PTY_TEST("4x2 for 6 ranks refused", rc == PTY_ERR_ARG && strstr(pty_error_message(), "--partition 4x2"));
    double line[8] = {0, 0, 0, 6, 0, 12, 0, 18};
    rc = pty_partition_create(line, 4, 2, 2, 1, 2.0, &part);
    PTY_TEST("2 block rows of a one-line scan refused",
             rc == PTY_ERR_ARG && strstr(pty_error_message(), "too few distinct rows"));
    rc = pty_partition_create(pos, 256, 4, 0, 0, -1.0, &part);
    PTY_TEST("negative overlap refused", rc == PTY_ERR_ARG && strstr(pty_error_message(), "--overlap"));
    free(pos);
    return pty_test_report();
}
