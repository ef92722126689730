/* merge_tree.c - the pairwise merge schedule, over MPI or in memory. */
#include "merge_tree.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "pty_error.h"

#define TAG_HEADER 201
#define TAG_BODY 202

void pty_merge_describe(const pty_merge_report *m, char *buf, size_t size)
{
    if (m->overlap_px == 0)
        snprintf(buf, size, "no common well-lit pixels: blended at the known offset");
    else if (isnan(m->reg_error))
        snprintf(buf, size, "blended at the known offset (overlap %ld px)", m->overlap_px);
    else
        snprintf(buf, size, "shift (%+.3f, %+.3f) px, phase %+.4f rad, amplitude %.4f, ramp (%+.2e, %+.2e) rad/px, "
                 "error %.3f%s, overlap %ld px",
                 m->shift[0], m->shift[1], m->phase, m->amplitude, m->ramp[0], m->ramp[1], m->reg_error,
                 m->accepted ? (m->disagree ? " (blocks disagree)" : "") : " (refused: known offset used)",
                 m->overlap_px);
}

typedef struct record_list {
    pty_merge_record *r;
    int n, cap;
} record_list;

static int record_add(record_list *l, int into, int from, const pty_merge_report *rep)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        pty_merge_record *r = realloc(l->r, (size_t)cap * sizeof *r);
        PTY_CHECK(r, PTY_ERR_NOMEM, "cannot allocate merge records");
        l->r = r;
        l->cap = cap;
    }
    l->r[l->n++] = (pty_merge_record){into, from, *rep};
    return PTY_OK;
}

/* Merge b into a (a replaced by the result, b freed); a failure names the
 * two (by `names` when given: the merge itself knows them as A and B). */
static int merge_into(pty_partial *a, pty_partial *b, int into, int from, const pty_merge_options *o,
                      const char *const *names, record_list *l)
{
    pty_partial merged;
    pty_merge_report rep;
    const int rc = pty_merge_pair(a, b, o, &merged, &rep);
    if (rc != PTY_OK && names)
        pty_error_context("merging '%s' (B) into '%s' (A)", names[from], names[into]);
    else if (rc != PTY_OK)
        pty_error_context("merging block %d (B) into block %d (A)", from, into);
    PTY_TRY(rc);
    pty_partial_free(a);
    pty_partial_free(b);
    *a = merged;
    return record_add(l, into, from, &rep);
}

int pty_merge_tree_local(pty_partial *parts, int n, const pty_merge_options *o, const char *const *names,
                         pty_merge_record **records, int *n_records)
{
    record_list l = {0};
    int rc = PTY_OK;
    for (int step = 1; step < n && rc == PTY_OK; step *= 2)
        for (int b = 0; b + step < n && rc == PTY_OK; b += 2 * step)
            rc = merge_into(&parts[b], &parts[b + step], b, b + step, o, names, &l);
    if (rc != PTY_OK) {
        free(l.r);
        return rc;
    }
    *records = l.r;
    *n_records = l.n;
    return PTY_OK;
}

static int send_partial(const pty_partial *p, const record_list *l, int to)
{
    int64_t head[5] = {p->h, p->w, p->offset[0], p->offset[1], l->n};
    const size_t npix = (size_t)p->h * p->w;
    PTY_TRY(pty_comm_send(head, sizeof head, to, TAG_HEADER));
    PTY_TRY(pty_comm_send(p->object, npix * sizeof *p->object, to, TAG_BODY));
    PTY_TRY(pty_comm_send(p->weight, npix * sizeof *p->weight, to, TAG_BODY));
    return pty_comm_send(l->r, (size_t)l->n * sizeof *l->r, to, TAG_BODY);
}

static int recv_partial(pty_partial *p, record_list *l, int from)
{
    int64_t head[5];
    PTY_TRY(pty_comm_recv(head, sizeof head, from, TAG_HEADER));
    PTY_TRY(pty_partial_alloc(p, (int)head[0], (int)head[1], (int)head[2], (int)head[3]));
    const size_t npix = (size_t)p->h * p->w;
    int rc = pty_comm_recv(p->object, npix * sizeof *p->object, from, TAG_BODY);
    if (rc == PTY_OK) rc = pty_comm_recv(p->weight, npix * sizeof *p->weight, from, TAG_BODY);
    pty_merge_record *r = NULL;
    if (rc == PTY_OK && head[4] > 0) {
        r = malloc((size_t)head[4] * sizeof *r);
        rc = r ? PTY_OK : pty_error_set(PTY_ERR_NOMEM, "cannot allocate merge records");
    }
    if (rc == PTY_OK) rc = pty_comm_recv(r, (size_t)head[4] * sizeof *r, from, TAG_BODY);
    for (int64_t i = 0; i < head[4] && rc == PTY_OK; i++) rc = record_add(l, r[i].into, r[i].from, &r[i].report);
    free(r);
    if (rc != PTY_OK) pty_partial_free(p);
    return rc;
}

int pty_merge_tree_mpi(pty_partial *mine, const pty_merge_options *o, pty_merge_record **records, int *n_records)
{
    const int me = pty_comm_rank(), n = pty_comm_size();
    record_list l = {0};
    int rc = PTY_OK;
    *records = NULL;
    *n_records = 0;
    for (int step = 1; step < n && rc == PTY_OK; step *= 2) {
        if (me % (2 * step) == step) {
            rc = send_partial(mine, &l, me - step);
            pty_partial_free(mine);
            break;
        }
        if (me % (2 * step) == 0 && me + step < n) {
            pty_partial other;
            /* the records of the other group come before this merge's */
            record_list theirs = {0};
            rc = recv_partial(&other, &theirs, me + step);
            for (int i = 0; i < theirs.n && rc == PTY_OK; i++)
                rc = record_add(&l, theirs.r[i].into, theirs.r[i].from, &theirs.r[i].report);
            free(theirs.r);
            if (rc == PTY_OK) rc = merge_into(mine, &other, me, me + step, o, NULL, &l);
        }
    }
    if (rc != PTY_OK || me != 0) {
        free(l.r);
        return rc;
    }
    *records = l.r;
    *n_records = l.n;
    return PTY_OK;
}
