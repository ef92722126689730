/* cpu_rows.h - the CPU backend's pixel loops: the per-pixel math of
 * pty_pixel.h over a run of n consecutive pixels of one row, for all K
 * modes.  The loops over modes sit outside the loops over pixels (the
 * per-pixel functions loop over modes inside), so the compiler vectorises
 * along the row; sums over modes keep pty_pixel.h's order, so a pixel's
 * result is the one pty_pixel.h gives (tests/test_cpu_rows.c checks that).
 *
 * Mode k of probe, psi and far lies at k * stride from mode 0. */
#ifndef PTY_CPU_ROWS_H
#define PTY_CPU_ROWS_H

#include <stddef.h>

#include "pty_pixel.h"

/* Exit waves psi_k = P_k O, raising *obj_max to max |O|^2 and *probe_max to
 * max sum_k |P_k|^2 over the run (NaN pixels leave the maxima alone). */
void pty_rows_exit_waves(int n, int n_modes, size_t stride, const pty_cf *obj, const pty_cf *probe, pty_cf *psi,
                         float *obj_max, float *probe_max);

/* Modulus projection of the far field (pty_modulus_factor); returns the
 * run's Fourier error numerator (pty_fourier_error_term). */
double pty_rows_project(int n, int n_modes, size_t stride, const float *amp, pty_cf *far);

/* The joint update from the back-propagated far field `far` (unscaled;
 * inv_n = 1/N): far becomes Delta_k (pty_exit_delta), the object is updated
 * in place (pty_update_object_pixel) and, when probe_step != 0, the probe
 * steps are added to probe_out (pty_probe_increment).  probe_out may be
 * `probe` itself (sequential order): each pixel reads its probe before
 * adding to it, as pty_update_pixel does. */
void pty_rows_update(int n, int n_modes, size_t stride, pty_cf *obj, const pty_cf *probe, const pty_cf *psi,
                     pty_cf *far, float inv_n, float alpha, float rpie, float probe_max, float probe_step,
                     pty_cf *probe_out);

/* Position correction: the run's share of the four sums of pty_position_terms, added to sums[]
 * (num_row, den_row, num_col, den_col).  obj is the run's first object pixel in an object of row
 * stride obj_w, before this position's update; up/down say whether the rows above and below
 * belong to the window.  Derivatives never reach beyond the window (one-sided at its edge): the
 * windows of a set touch, and a neighbour's pixels may be changing under another thread.  back is
 * the unscaled back-propagated far field, before pty_rows_update turns it into Delta; weight the
 * run's weights (the object's illumination, pty_position_terms). */
void pty_rows_position_terms(int n, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w, int up, int down,
                             const pty_cf *probe, const pty_cf *psi, const pty_cf *back, float inv_n,
                             const float *weight, double sums[4]);

#endif /* PTY_CPU_ROWS_H */
