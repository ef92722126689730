/* result_mpi.c - the /mpi group of a result: how the scan was split, what
 * each rank spent its time on, and what every merge found; and one rank's
 * block as a file of its own. */
#include <stddef.h>
#include <stdlib.h>

#include "h5util.h"
#include "pty_error.h"
#include "result_write.h"

/* One column of the per-rank table as its own dataset. */
static int write_rank_column(hid_t f, const char *path, const pty_rank_stats *s, int n, size_t offset, double *buf)
{
    for (int i = 0; i < n; i++) buf[i] = *(const double *)((const char *)&s[i] + offset);
    hsize_t dim = (hsize_t)n;
    return pty_h5_write_double(f, path, buf, 1, &dim);
}

static int write_merges(hid_t f, const pty_merge_record *r, int n, double *buf)
{
    hsize_t dim = (hsize_t)n, dims2[2] = {(hsize_t)n, 2};
#define COLUMN(path, expr)                                                  \
    do {                                                                    \
        for (int i = 0; i < n; i++) buf[i] = (expr);                        \
        PTY_TRY(pty_h5_write_double(f, path, buf, 1, &dim));                \
    } while (0)
#define PAIR(path, expr)                                                    \
    do {                                                                    \
        for (int i = 0; i < n; i++)                                         \
            for (int a = 0; a < 2; a++) buf[2 * i + a] = (expr)[a];         \
        PTY_TRY(pty_h5_write_double(f, path, buf, 2, dims2));               \
    } while (0)
    COLUMN("/mpi/merges/into", r[i].into);
    COLUMN("/mpi/merges/from", r[i].from);
    PAIR("/mpi/merges/shift", r[i].report.shift);
    COLUMN("/mpi/merges/phase", r[i].report.phase);
    COLUMN("/mpi/merges/amplitude", r[i].report.amplitude);
    PAIR("/mpi/merges/ramp", r[i].report.ramp);
    COLUMN("/mpi/merges/error", r[i].report.reg_error);
    COLUMN("/mpi/merges/accepted", r[i].report.accepted);
    COLUMN("/mpi/merges/disagree", r[i].report.disagree);
    COLUMN("/mpi/merges/overlap_px", (double)r[i].report.overlap_px);
    COLUMN("/mpi/merges/seconds", r[i].report.seconds);
#undef COLUMN
#undef PAIR
    return PTY_OK;
}

static int write_all(hid_t f, const pty_dist_result *d, const pty_dist_options *o, int P, double *buf)
{
    const pty_partition *p = &d->partition;
    const char *mode = !d->stats ? "stitch" : o->mode == PTY_MODE_SYNC ? "sync" : "async";
    PTY_TRY(pty_h5_write_string(f, "/mpi/mode", mode));
    PTY_TRY(pty_h5_write_scalar(f, "/mpi/ranks", P));
    int shape[2] = {p->rows, p->cols};
    hsize_t two = 2;
    PTY_TRY(pty_h5_write_int(f, "/mpi/partition", shape, 1, &two));
    if (p->rows > 1 && p->row_cuts) {
        hsize_t n = (hsize_t)p->rows - 1;
        PTY_TRY(pty_h5_write_double(f, "/mpi/row_cuts_px", p->row_cuts + 1, 1, &n));
    }
    if (p->cols > 1 && p->col_cuts) {
        hsize_t n = (hsize_t)p->cols - 1;
        PTY_TRY(pty_h5_write_double(f, "/mpi/col_cuts_px", p->col_cuts + 1, 1, &n));
    }
    PTY_TRY(pty_h5_write_scalar(f, "/mpi/overlap_steps", o->overlap));
    PTY_TRY(pty_h5_write_scalar(f, "/mpi/scan_step_px", p->step));
    PTY_TRY(pty_h5_write_scalar(f, "/mpi/share_every", o->mode == PTY_MODE_SYNC ? o->share_every : 0));
    PTY_TRY(pty_h5_write_scalar(f, "/mpi/bytes_per_share", d->bytes_per_share));
    PTY_TRY(pty_h5_write_scalar(f, "/mpi/bytes_copied_per_share", d->bytes_copied_per_share));
    const pty_rank_stats *s = d->stats;
    if (!s) return d->n_records > 0 ? write_merges(f, d->records, d->n_records, buf) : PTY_OK; /* ptycho stitch */
    PTY_TRY(write_rank_column(f, "/mpi/rank_n_core", s, P, offsetof(pty_rank_stats, n_core), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_n_positions", s, P, offsetof(pty_rank_stats, n_positions), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_read_s", s, P, offsetof(pty_rank_stats, read_s), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_setup_s", s, P, offsetof(pty_rank_stats, setup_s), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_compute_s", s, P, offsetof(pty_rank_stats, compute_s), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_comm_s", s, P, offsetof(pty_rank_stats, comm_s), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_merge_s", s, P, offsetof(pty_rank_stats, merge_s), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_share_s", s, P, offsetof(pty_rank_stats, share_s), buf));
    PTY_TRY(write_rank_column(f, "/mpi/rank_bytes_sent", s, P, offsetof(pty_rank_stats, bytes_sent), buf));
    for (int i = 0; i < P; i++)
        for (int a = 0; a < 4; a++) buf[4 * i + a] = s[i].box[a];
    hsize_t box_dims[2] = {(hsize_t)P, 4};
    PTY_TRY(pty_h5_write_double(f, "/mpi/rank_box", buf, 2, box_dims));
    if (d->n_records > 0) PTY_TRY(write_merges(f, d->records, d->n_records, buf));
    return PTY_OK;
}

int pty_result_write_mpi(hid_t f, const pty_dist_result *d, const pty_dist_options *o, int n_ranks)
{
    size_t n = (size_t)(n_ranks > d->n_records ? n_ranks : d->n_records) * 4 + 4;
    double *buf = malloc(n * sizeof *buf);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate the /mpi tables");
    int rc = write_all(f, d, o, n_ranks, buf);
    free(buf);
    return rc;
}

int pty_result_write_block(const char *path, const pty_dist_block *b)
{
    const pty_recon_params *p = b->params;
    int n_err;
    const double *errors = pty_plan_errors(b->plan, &n_err);
    double setup_s, iterate_s;
    pty_plan_timings(b->plan, &setup_s, &iterate_s);
    pty_result r = {
        .object = b->partial->object, .obj_h = b->partial->h, .obj_w = b->partial->w,
        .origin = {b->origin[0], b->origin[1]},
        .probe = b->probe, .n_modes = p->n_modes, .m = b->data->m,
        .errors = errors, .n_errors = n_err, .positions = b->data->positions, .n_positions = b->data->n_frames,
        .pixel_size = b->data->pixel_size, .backend = pty_plan_backend_name(b->plan), .input = "", .command_line = "",
        .setup_s = setup_s, .iterate_s = iterate_s, .params = p, .weight = b->partial->weight,
    };
    return pty_result_write_h5(path, &r);
}
