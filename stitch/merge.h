/* merge.h - merging two partial objects of the asynchronous multi-rank mode
 * (DESIGN.md §3 "Asynchronous").
 *
 * Each rank reconstructs a block of the scan on its own; its result is a
 * partial object placed on the global object grid at an integer offset,
 * with the illumination weight that says how well each pixel was seen.
 * Independent reconstructions agree only up to what ptychography cannot
 * determine: a small translation (sub-pixel to a few pixels), a global
 * complex factor and possibly a linear phase ramp.  Merging B into A
 * registers B on their overlap, removes these differences from B and blends
 * the two with their weights, never with a hard seam.  A tree of pairwise
 * merges over the ranks gives the whole object. */
#ifndef PTY_MERGE_H
#define PTY_MERGE_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A partial object and its illumination weight, both h x w row-major. */
typedef struct pty_partial {
    pty_cf *object; /* owned */
    float *weight;  /* owned; sum over the block's positions of sum_k |P_k|^2, >= 0, 0 = never illuminated */
    int h, w;
    int offset[2]; /* (row, col) of pixel (0, 0) on the global object grid, any integer */
} pty_partial;

/* Allocate an h x w partial at offset (off_r, off_c) with object 1+0i and
 * weight 0 (the neutral object, as the reconstruction starts from).
 * Errors: PTY_ERR_ARG (NULL, h or w < 1, more than 1e9 pixels),
 * PTY_ERR_NOMEM.  On error *p is zeroed, so pty_partial_free is safe. */
int pty_partial_alloc(pty_partial *p, int h, int w, int off_r, int off_c);

/* Free the arrays and zero *p; NULL and zeroed partials are fine. */
void pty_partial_free(pty_partial *p);

typedef struct pty_merge_options {
    int register_shift; /* 1 (asynchronous mode): find B's translation relative to A on the overlap;
                           0 (synchronous mode): trust the offsets */
    int normalise;      /* 1: remove B's constant phase and amplitude difference to A on the overlap */
    int fit_ramp;       /* 1: also remove a linear phase-ramp difference (of A conj(B)).  Default 0: a
                           ramp fitted on an overlap strip is the blocks' local phase difference there, not
                           the difference of their whole-block ramps (README "Several ranks"), so it helps
                           some scans and harms others */
    int upsample;       /* up-sampling kappa for pty_register and pty_find_ramp; default 20 */
    double max_error;   /* registration error (pty_registration.error) above which the shift is
                           refused; default 0.5 */
    double max_shift;   /* |shift| (px, Euclidean) above which the shift is refused; default 8 */
    double warn_error;  /* an accepted registration above this error is flagged as blocks that disagree
                           (report.disagree, a warning): blocks that both converged give ~0.01, a block
                           that stagnated 0.185; default 0.05 */
} pty_merge_options;

/* register_shift 1, normalise 1, fit_ramp 0, upsample 20, max_error 0.5,
 * max_shift 8, warn_error 0.05.  max_error sits between what matching and unrelated content
 * give (tests/test_merge.c, 160 x 40 overlap): an aligned noise-free copy
 * ~2e-4, 20% complex noise in both partials 0.12, random noise against an
 * object 0.997. */
void pty_merge_options_default(pty_merge_options *o);

/* The options' ranges, stated here once (ptycho recon and ptycho stitch
 * check their flags with it): upsample [1, 1000], max_error [0, 1],
 * max_shift [0, 1e4] px.  PTY_ERR_ARG naming the flag (--stitch-upsample). */
int pty_merge_options_check(const pty_merge_options *o);

typedef struct pty_merge_report {
    double shift[2];       /* (row, col) px applied to B: B's content was displaced by `shift` relative to A
                              (B(r) ≈ A(r - shift), r global) and was moved back; 0 when not registered */
    double reg_error;      /* registration error of the aligned overlaps (see pty_merge_pair); NAN when
                              no registration ran */
    int accepted;          /* 1: a registration was used; 0: none ran (register_shift 0, too small an
                              overlap) or it was refused (warning naming the error and shift) */
    double phase;          /* arg g, rad, g = the constant factor applied to B */
    double amplitude;      /* |g| */
    double ramp[2];        /* k, rad/px (row, col), applied to B as exp(i k.(r - ramp_origin)) */
    double ramp_origin[2]; /* global (row, col) of the overlap's centre, where the ramp's phase is 0
                              (so `phase` is the phase correction there); 0 without overlap */
    int disagree;          /* 1: accepted, but with reg_error above warn_error: the blocks' contents differ
                              more than noise explains (one has likely not converged) */
    long overlap_px;       /* well-seen overlap pixels: both weights (B's after its shift) >= 15% of
                              their partial's maximum */
    double seconds;        /* wall time of this merge in this process (no communication) */
} pty_merge_report;

/* Merge b into a new partial *out covering the union of the two boxes:
 *     out = (w_a A + w_b B') / (w_a + w_b),   w_out = w_a + w_b,
 * where B'(r) = g exp(i k.(r - c)) B(r + shift) is B corrected onto A and
 * w_b is moved with B's content.  Where both weights are 0, out is A where
 * A's box covers the pixel, else B' where B's does, else 1+0i (weight 0).
 *
 * The shift and ramp are fitted on the overlap rectangle by an aligner
 * (align.h, the fit `ptycho compare` uses too), with A and B
 * smoothed by [1 2 1]/4 per axis and weighted by one taper m (both weights,
 * full above half their maximum, times a Tukey window): registration
 * rounds by pty_register on m A and m B (B shifted by the estimate so far
 * each round) and ramp estimates (pty_find_ramp on m A conj(B), refined by
 * a plane fit of its phase) bring B close, then Gauss-Newton minimises
 * sum m |A - g exp(i k.(r - c)) B(r + shift)|^2 over shift (register_shift)
 * and k (fit_ramp).  On noise-free test data the shift is found to ~3e-4 px,
 * with 20% noise in both partials to ~0.02 px.  reg_error is then
 * pty_registration.error of m A against the aligned m B'.  A registration
 * with error > max_error or |shift| > max_shift is refused with a warning,
 * and B is merged at its offset with no shift, ramp or factor: its content
 * does not match A's, so a factor fitted on it would be meaningless.
 *
 * With normalise, after the shift and ramp, over the well-seen overlap
 * (both weights >= 15% of their maxima) with weights w = w_a w_b:
 * arg g = arg sum w A conj(B'), |g| = sqrt(sum w |A|^2 / sum w |B'|^2);
 * this treats A and B alike, where the least-squares |g| would shrink B by
 * the noise in it.  Fewer than 64 well-seen overlap pixels (disjoint boxes,
 * blocks touching at a corner): nothing is fitted, B is blended at its
 * offset, with a warning when a fit was asked for.
 *
 * B is moved by a Fourier shift of a mirror-extended copy (the ramp applied
 * before the shift, so the shift interpolates a ramp-free image), so nothing
 * wraps around; the pixels within |shift| of B's box edge are extrapolated
 * (mirrored) and keep B's weight there, small at a block's edge.
 *
 * `o` may be NULL (defaults); `rep` may be NULL.  Neither input is
 * modified; *out must not be one of them, is allocated here (free with
 * pty_partial_free) and is zeroed on error.  Errors: PTY_ERR_ARG (NULL,
 * sizes, options, a union box over 1e9 pixels), PTY_ERR_DATA (non-finite
 * object values, negative or non-finite weights), PTY_ERR_NOMEM,
 * PTY_ERR_FFT.  Plans FFTs: FFTW's planner is not thread-safe, so call from
 * one thread at a time. */
int pty_merge_pair(const pty_partial *a, const pty_partial *b, const pty_merge_options *o, pty_partial *out,
                   pty_merge_report *rep);

#ifdef __cplusplus
}
#endif
#endif /* PTY_MERGE_H */
