/* sync_share.c - strip exchange with overlapping ranks and probe averaging. */
#include "sync_share.h"

#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "illumination.h"
#include "modes.h"
#include "pty_error.h"

#define TAG_STRIP 101
/* The weights follow the probe, which changes little from one share to the
 * next; summing it over every window costs n m^2 (130 M adds for 2,000
 * positions of 256^2), more than an iteration's share of a GPU's compute, so
 * they are refreshed every few shares only. */
#define WEIGHT_REFRESH 10

struct pty_sync {
    int me, n_ranks, m, n_modes;
    int center;         /* centre the shared probe (the plans themselves must not) */
    int n_shares;       /* shares done; weights are refreshed every WEIGHT_REFRESH */
    pty_box box;        /* mine */
    int n_peers;
    int *peer;          /* ranks whose boxes overlap mine, ascending */
    pty_box *shared;    /* per peer: the overlap, in my box's pixels */
    int *near, *near_end; /* strip i meets strips near[near_end[i-1] .. near_end[i]) (itself included),
                             ascending: the only strips a pixel of strip i can also lie in */
    float **send, **recv; /* per peer: 3 floats a pixel (w re, w im, w) */
    size_t *bytes;
    pty_cf *object, *probe, *ref; /* object: only the strips are filled */
    pty_cf *strip;      /* the largest strip: a strip's pixels on their way to or from the plan */
    double copied;      /* bytes of object moved between the plan and the host per share */
    float *weight;
    float *feather;     /* my box: trust in my own pixels, or NULL */
};

static int intersect(const pty_box *a, const pty_box *b, pty_box *out)
{
    int r0 = a->off[0] > b->off[0] ? a->off[0] : b->off[0];
    int c0 = a->off[1] > b->off[1] ? a->off[1] : b->off[1];
    int r1 = a->off[0] + a->h < b->off[0] + b->h ? a->off[0] + a->h : b->off[0] + b->h;
    int c1 = a->off[1] + a->w < b->off[1] + b->w ? a->off[1] + a->w : b->off[1] + b->w;
    if (r1 <= r0 || c1 <= c0) return 0;
    out->off[0] = r0 - a->off[0]; /* relative to a */
    out->off[1] = c0 - a->off[1];
    out->h = r1 - r0;
    out->w = c1 - c0;
    return 1;
}

void pty_sync_destroy(pty_sync *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_peers; i++) {
        if (s->send) free(s->send[i]);
        if (s->recv) free(s->recv[i]);
    }
    free(s->send);
    free(s->recv);
    free(s->bytes);
    free(s->peer);
    free(s->shared);
    free(s->near);
    free(s->near_end);
    free(s->object);
    free(s->strip);
    free(s->probe);
    free(s->ref);
    free(s->weight);
    free(s->feather);
    free(s);
}

int pty_sync_create(const pty_box *boxes, int n_ranks, int me, int m, int n_modes, int center, const float *feather,
                    pty_sync **out)
{
    *out = NULL;
    pty_sync *s = calloc(1, sizeof *s);
    PTY_CHECK(s, PTY_ERR_NOMEM, "cannot allocate the sync state");
    s->me = me;
    s->n_ranks = n_ranks;
    s->m = m;
    s->n_modes = n_modes;
    s->center = center;
    s->box = boxes[me];
    const size_t nbox = (size_t)s->box.h * s->box.w, nprobe = (size_t)n_modes * m * m;
    s->peer = malloc((size_t)n_ranks * sizeof *s->peer);
    s->shared = malloc((size_t)n_ranks * sizeof *s->shared);
    s->send = calloc((size_t)n_ranks, sizeof *s->send);
    s->recv = calloc((size_t)n_ranks, sizeof *s->recv);
    s->bytes = malloc((size_t)n_ranks * sizeof *s->bytes);
    s->object = malloc(nbox * sizeof *s->object);
    s->weight = malloc(nbox * sizeof *s->weight);
    s->probe = malloc(nprobe * sizeof *s->probe);
    s->ref = malloc(nprobe * sizeof *s->ref);
    if (feather) {
        s->feather = malloc(nbox * sizeof *s->feather);
        if (s->feather) memcpy(s->feather, feather, nbox * sizeof *s->feather);
    }
    int ok = (!feather || s->feather) && s->peer && s->shared && s->send && s->recv && s->bytes && s->object && s->weight && s->probe &&
             s->ref;
    size_t largest = 0;
    for (int r = 0; r < n_ranks && ok; r++) {
        pty_box o;
        if (r == me || !intersect(&s->box, &boxes[r], &o)) continue;
        int i = s->n_peers++;
        s->peer[i] = r;
        s->shared[i] = o;
        s->bytes[i] = (size_t)o.h * o.w * 3 * sizeof(float);
        s->send[i] = malloc(s->bytes[i]);
        s->recv[i] = malloc(s->bytes[i]);
        ok = s->send[i] && s->recv[i];
        largest = (size_t)o.h * o.w > largest ? (size_t)o.h * o.w : largest;
        s->copied += 2.0 * o.h * o.w * sizeof(pty_cf); /* out and back in */
    }
    if (ok && largest) ok = (s->strip = malloc(largest * sizeof *s->strip)) != NULL;
    if (ok) {
        s->near = malloc((size_t)s->n_peers * (s->n_peers + 1) * sizeof *s->near);
        s->near_end = malloc((size_t)(s->n_peers + 1) * sizeof *s->near_end);
        ok = s->near && s->near_end;
    }
    for (int i = 0, k = 0; i < s->n_peers && ok; i++) {
        for (int j = 0; j < s->n_peers; j++) {
            pty_box o;
            if (j == i || intersect(&s->shared[i], &s->shared[j], &o)) s->near[k++] = j;
        }
        s->near_end[i] = k;
    }
    if (!ok) {
        pty_sync_destroy(s);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the sync buffers for a %dx%d object box", s->box.h,
                             s->box.w);
    }
    *out = s;
    return PTY_OK;
}

double pty_sync_copied_bytes_per_share(const pty_sync *s) { return s->copied; }

double pty_sync_bytes_per_share(const pty_sync *s)
{
    double b = 0;
    for (int i = 0; i < s->n_peers; i++) b += (double)s->bytes[i];
    return b + (double)s->n_modes * s->m * s->m * sizeof(pty_cf);
}

static int in_box(const pty_box *o, int y, int x)
{
    return y >= o->off[0] && y < o->off[0] + o->h && x >= o->off[1] && x < o->off[1] + o->w;
}

/* Pixel (y, x) of my box, inside strip i, becomes the weighted average over
 * all its holders: me and the peers whose strips contain it, which are among
 * strip i's near list.  Contributions are added in rank order, mine in its
 * place and in the same float products as pack() sends, so every holder
 * computes the same value. */
static void average_pixel(pty_sync *s, int i, int y, int x)
{
    const size_t p = (size_t)y * s->box.w + x;
    const int b = i ? s->near_end[i - 1] : 0, e = s->near_end[i];
    double a[3] = {0, 0, 0};
    int mine_done = 0;
    for (int q = b; q <= e; q++) {
        const int j = q < e ? s->near[q] : s->n_peers;
        if (!mine_done && (j == s->n_peers || s->peer[j] > s->me)) {
            float w = s->weight[p];
            a[0] += (float)(w * s->object[p].re);
            a[1] += (float)(w * s->object[p].im);
            a[2] += w;
            mine_done = 1;
        }
        if (j < s->n_peers && in_box(&s->shared[j], y, x)) {
            const pty_box *o = &s->shared[j];
            const float *v = s->recv[j] + 3 * ((size_t)(y - o->off[0]) * o->w + (x - o->off[1]));
            a[0] += v[0];
            a[1] += v[1];
            a[2] += v[2];
        }
    }
    if (a[2] > 0) s->object[p] = pty_cf_make((float)(a[0] / a[2]), (float)(a[1] / a[2]));
}

static void pack(const pty_sync *s, const pty_box *o, float *vals)
{
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++) {
            size_t i = (size_t)(o->off[0] + y) * s->box.w + o->off[1] + x;
            float w = s->weight[i];
            float *v = vals + 3 * ((size_t)y * o->w + x);
            v[0] = w * s->object[i].re;
            v[1] = w * s->object[i].im;
            v[2] = w;
        }
}

/* Strip i between the plan and my box's copy on the host (to_plan: from the
 * copy into the plan).  Only the strips cross: on a GPU the whole box went
 * to the host and back at every share (the seed's size, rank 0, out and back
 * in: 96.8 MB for its box at 4 ranks, 41.5 MB for its strips; 32.2 and 25.4
 * MB at 16 ranks, where the 4-step halo makes strips most of a box). */
static int move_strip(pty_sync *s, pty_plan *plan, int i, int to_plan)
{
    const pty_box *o = &s->shared[i];
    if (!to_plan) PTY_TRY(pty_plan_get_object_rect(plan, o->off[0], o->off[1], o->h, o->w, s->strip));
    for (int y = 0; y < o->h; y++) {
        pty_cf *row = s->object + (size_t)(o->off[0] + y) * s->box.w + o->off[1], *part = s->strip + (size_t)y * o->w;
        if (to_plan) memcpy(part, row, (size_t)o->w * sizeof *row);
        else memcpy(row, part, (size_t)o->w * sizeof *row);
    }
    return to_plan ? pty_plan_set_object_rect(plan, o->off[0], o->off[1], o->h, o->w, s->strip) : PTY_OK;
}

static int share_object(pty_sync *s, pty_plan *plan)
{
    int n_windows;
    const int *windows = pty_plan_active_windows(plan, &n_windows);
    const size_t nbox = (size_t)s->box.h * s->box.w;
    for (int i = 0; i < s->n_peers; i++) PTY_TRY(move_strip(s, plan, i, 0));
    if (s->n_shares++ % WEIGHT_REFRESH == 0) {
        PTY_TRY(pty_illumination(s->probe, s->n_modes, s->m, windows, n_windows, s->box.h, s->box.w, s->weight));
        if (s->feather)
            for (size_t p = 0; p < nbox; p++) s->weight[p] *= s->feather[p];
    }
    for (int i = 0; i < s->n_peers; i++) pack(s, &s->shared[i], s->send[i]);
    PTY_TRY(pty_comm_exchange(s->n_peers, s->peer, (void *const *)s->send, s->bytes, (void *const *)s->recv, s->bytes,
                              TAG_STRIP));
    /* only the strips change; a pixel in several strips once, with the
       first strip (in peer order) that holds it */
    for (int i = 0; i < s->n_peers; i++) {
        const pty_box *o = &s->shared[i];
        const int b = i ? s->near_end[i - 1] : 0, e = s->near_end[i];
        for (int y = o->off[0]; y < o->off[0] + o->h; y++)
            for (int x = o->off[1]; x < o->off[1] + o->w; x++) {
                int seen = 0;
                for (int q = b; q < e && s->near[q] < i && !seen; q++) seen = in_box(&s->shared[s->near[q]], y, x);
                if (!seen) average_pixel(s, i, y, x);
            }
    }
    for (int i = 0; i < s->n_peers; i++) PTY_TRY(move_strip(s, plan, i, 1));
    return PTY_OK;
}

static int share_probe(pty_sync *s, pty_plan *plan)
{
    const size_t nprobe = (size_t)s->n_modes * s->m * s->m;
    if (s->me == 0) memcpy(s->ref, s->probe, nprobe * sizeof *s->ref);
    PTY_TRY(pty_comm_bcast(s->ref, nprobe * sizeof *s->ref, 0));
    if (s->me != 0) PTY_TRY(pty_modes_align(s->ref, s->probe, s->n_modes, (size_t)s->m * s->m));
    PTY_TRY(pty_comm_sum_floats((float *)s->probe, 2 * nprobe));
    const float inv = 1.0f / (float)s->n_ranks;
    for (size_t i = 0; i < nprobe; i++) s->probe[i] = pty_cf_make(s->probe[i].re * inv, s->probe[i].im * inv);
    if (s->n_modes > 1) PTY_TRY(pty_modes_orthogonalize(s->probe, s->n_modes, (size_t)s->m * s->m, NULL));
    PTY_TRY(pty_plan_set_probe(plan, s->probe));
    /* every rank now holds the same probe, so every rank decides the same roll */
    return s->center ? pty_plan_center_probe(plan) : PTY_OK;
}

int pty_sync_share(pty_sync *s, pty_plan *plan)
{
    PTY_TRY(pty_plan_get_probe(plan, s->probe));
    PTY_TRY(share_object(s, plan));
    return share_probe(s, plan);
}
