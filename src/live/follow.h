/* follow.h - reconstruct a scan while it is being acquired.
 *
 * The follower reads frames from a source (frame_source.h) as they
 * arrive, starts ePIE once enough have come, puts each new frame into the
 * running passes (a new position joins the random order at the next
 * pass), keeps iterating, and when the source says the scan is complete
 * runs a last number of iterations over all of it.  The object's grid is
 * the planned scan's when the source states it; otherwise it is sized from
 * the positions seen, with a margin, and grown (the current object carried
 * into the larger grid) when a position falls outside it.  Frames that
 * were never written (no counts, or no finite position) and frames that
 * repeat the previous one exactly are skipped and counted.  A source that
 * stops growing for `timeout_s` without completing ends the run with the
 * frames that came (PTY_ERR_INCOMPLETE, after the result is filled).
 * Under MPI every rank calls it: the planned scan is cut into blocks and
 * the ranks run in sync mode (follow_ranks.h); rank 0 gets the result. */
#ifndef PTY_FOLLOW_H
#define PTY_FOLLOW_H

#include "distributed.h"
#include "engine.h"
#include "frame_source.h"
#include "preview.h"
#include "probe_guess.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_follow_options {
    int min_frames;          /* start once this many frames are in; 0: PTY_FOLLOW_START_FRACTION of
                                the planned scan, at least PTY_FOLLOW_MIN_START (that many when unknown) */
    int final_iterations;    /* over the whole scan once it is complete */
    double timeout_s;        /* a source that does not grow for this long (and is not complete) has stalled */
    const char *preview_dir; /* NULL: no previews */
    double preview_every_s;  /* seconds between previews */
    pty_probe_guess_options guess; /* the first probe, chosen on the frames in at the start */
    const pty_dist_options *dist;  /* several MPI ranks: mode (sync only), partition, overlap, share_every;
                                      NULL: the defaults */
    /* after every pass (and while waiting, every poll): may be NULL */
    void (*progress)(void *user, const pty_live_status *s);
    void *user;
} pty_follow_options;

#define PTY_FOLLOW_START_FRACTION 0.1
#define PTY_FOLLOW_MIN_START 16

void pty_follow_options_default(pty_follow_options *o);

/* What happened, for the note a person reads and the result file. */
typedef struct pty_follow_report {
    long long seen, planned;
    int used, missing, duplicate;
    int complete;              /* the source said so */
    int live_iterations;       /* passes before the scan was complete */
    int regrids;               /* times the object grid grew (or the frame store) */
    double t_first_frame;      /* seconds from the start of the follower to the first frame read */
    double t_start;            /* ... to the first pass */
    double t_first_preview;    /* ... to the first preview written (0: none) */
    double t_complete;         /* ... to the moment the follower saw the scan complete */
    double t_end;              /* ... to the end of the last pass */
    double updates_min, updates_median; /* passes each frame took part in before the final
                                           iterations (frames of the last pass included) */
    int n_previews;
} pty_follow_report;

typedef struct pty_follow_result {
    pty_cf *object;            /* obj_h x obj_w */
    int obj_h, obj_w;
    double origin[2];          /* grid (row, col) of position (0, 0) */
    pty_cf *probe;             /* n_modes x m x m */
    int m, n_modes;
    double *errors;            /* per pass, all passes */
    int n_errors;
    double *positions;         /* n_positions x 2: the frames used, in arrival order */
    int n_positions;
    double pixel_size;
    const char *backend;
    int order;                 /* PTY_ORDER_* run */
    double setup_s, iterate_s;
    pty_probe_guess_report guess;
    pty_follow_report report;
} pty_follow_result;

/* Follow `src` to the end.  Returns PTY_OK with the result filled,
 * PTY_ERR_INCOMPLETE (message saying how many frames came and how long
 * the source was silent) with the result of those frames filled too, or
 * another error with nothing filled. */
int pty_follow_reconstruct(pty_frame_source *src, const pty_recon_params *p, const pty_follow_options *o,
                           pty_follow_result *out);
void pty_follow_result_free(pty_follow_result *r);

#ifdef __cplusplus
}
#endif
#endif /* PTY_FOLLOW_H */
