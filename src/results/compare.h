/* compare.h - quality of a reconstructed object against a ground truth
 * (DESIGN.md §4): NRMSE inside the scanned area after removing what
 * ptychography cannot determine (a translation, a global complex factor and
 * a linear phase ramp). */
#ifndef PTY_COMPARE_H
#define PTY_COMPARE_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_compare_result {
    double nrmse;       /* ||g e^{ik.(r-rc)} O_rec(r + d + shift) - O_true(r)|| / ||O_true|| over the region */
    double shift[2];    /* (row, col) px: the reconstruction's content sits `shift` further than the
                           origins say, i.e. O_rec(r + d) ≈ O_true(r - shift), d = rec_origin - truth_origin */
    double ramp[2];     /* k, rad per pixel (row, col), applied to the reconstruction */
    double g_abs, g_phase; /* global factor g applied to the reconstruction (phase in rad) */
    int region[4];      /* r0, c0, h, w in truth pixels; rc = its centre, r0 + (h-1)/2 */
    double probe_width; /* px, as given */
    double reg_error;   /* error of the initial registration (pty_registration.error) */
    /* with seams: the same fit's NRMSE inside the bands around the seams and
       in the rest of the region, each normalised by its own ||O_true|| */
    double nrmse_seam, nrmse_away;
    long seam_px, away_px;
    float *error_map;   /* with want_map: |g e^{ik.r} O_rec - O_true| over the region (region[2] x
                           region[3]), malloc'ed, the caller frees; else NULL */
    pty_cf *aligned;    /* with want_aligned: g e^{ik.(r-rc)} O_rec(r + d + shift) over the region, and */
    pty_cf *reference;  /* O_true there (both region[2] x region[3], malloc'ed, the caller frees; else NULL):
                           the two images registered onto each other, e.g. for a Fourier ring correlation */
} pty_compare_result;

/* Lines where partial objects were joined (DESIGN.md §3): a pixel is in a
 * seam band when it lies within `band` pixels of a row cut or a column cut.
 * Cuts are in position coordinates, like the positions. */
typedef struct pty_compare_seams {
    const double *row_cuts, *col_cuts;
    int n_row_cuts, n_col_cuts;
    double band;        /* 0: no seams */
    int want_map;       /* also return the error map */
    int want_aligned;   /* also return the aligned reconstruction and the truth's region */
} pty_compare_seams;

/* Probe width in pixels: the diameter of the smallest circle centred at
 * (m/2, m/2) (integer division) holding 90% of sum_k |P_k|^2.  `probe` is
 * n_modes x m x m, row-major.  Returns 0 when the probe has no power or the
 * arguments are invalid. */
double pty_probe_width(const pty_cf *probe, int n_modes, int m);

/* Compare `rec` (rec_h x rec_w) with `truth` (truth_h x truth_w).  Each
 * object's origin is the (row, col) on its grid where position (0, 0) falls,
 * so truth pixel r nominally corresponds to reconstruction pixel
 * r + rec_origin - truth_origin.  The region is the bounding box of the n
 * probe centres `positions` ((row, col) pixels relative to the origin, n x 2)
 * expanded outward by probe_width/4, clipped to the truth.  Within it the
 * translation starts from pty_register at `upsample` (>= 20 recommended) and
 * the ramp from the DFT peak of O_true conj(O_rec); then translation, ramp
 * and g are refined jointly by Gauss-Newton on the NRMSE (to ~1e-5 px on
 * noise-free data), by the aligner the stitcher uses too (stitch/align.h).
 * The reconstruction is resampled by a Fourier shift of a mirror-extended
 * window, so its edges do not ring into the region.
 * Errors: PTY_ERR_ARG (NULL, sizes, upsample), PTY_ERR_DATA (no positions,
 * non-finite inputs, empty region, region outside the reconstruction, a
 * truth without power), PTY_ERR_NOMEM, PTY_ERR_FFT.  *out is written only on
 * success.  Not thread-safe (FFTW planning). */
int pty_compare_objects(const pty_cf *rec, int rec_h, int rec_w, const double rec_origin[2], const pty_cf *truth,
                        int truth_h, int truth_w, const double truth_origin[2], const double *positions,
                        int n_positions, double probe_width, int upsample, pty_compare_result *out);

/* Free the arrays a result may hold (error_map, aligned, reference). */
void pty_compare_result_free(pty_compare_result *r);

/* pty_compare_objects, then the NRMSE split by `seams` (may be NULL), and
 * the arrays `seams` asks for. */
int pty_compare_objects_seams(const pty_cf *rec, int rec_h, int rec_w, const double rec_origin[2],
                              const pty_cf *truth, int truth_h, int truth_w, const double truth_origin[2],
                              const double *positions, int n_positions, double probe_width, int upsample,
                              const pty_compare_seams *seams, pty_compare_result *out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_COMPARE_H */
