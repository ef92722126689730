/* cpu_rows.h - the CPU backend's pixel loops: the per-pixel math of
 * pty_pixel.h over a run of n consecutive pixels of one row, for all K
 * modes.  The loops over modes sit outside the loops over pixels (the
 * per-pixel functions loop over modes inside), so the compiler vectorises
 * along the row; sums over modes keep pty_pixel.h's order, so a pixel's
 * result is the one pty_pixel.h gives (tests/test_cpu_rows.c checks that).
 *
 * Mode k of probe and far lies at k * stride from mode 0. */
#ifndef PTY_CPU_ROWS_H
#define PTY_CPU_ROWS_H

#include <stddef.h>

#include "pty_pixel.h"

/* A window is nr rows of m pixels: obj is its first object pixel in an
 * object of row stride obj_w; probe and far hold row r at r * m.
 * The exit waves are not kept beside their far field: the update and the
 * position terms make them again from probe and object (P O, the same
 * bits), which costs a multiply where they read both anyway and saves a
 * buffer, a pass and the forward transform's copy (it runs in place). */

/* The width in bits of the vector copy of these loops that runs on this CPU
 * (512, 256 or 128 on x86-64; 0 where the build has no copies): reported by
 * `ptycho bench`.  PTY_VECTOR_BITS=256 in the environment keeps a CPU with
 * AVX-512 on the 256-bit copy. */
int pty_rows_vector_bits(void);

/* The probe's power sum_k |P_k|^2 over n pixels: written to power unless
 * NULL; returns its maximum (NaN pixels left out).  The object step's
 * normaliser, made once for each probe the positions see (pty_object_step)
 * rather than again at every position. */
float pty_rows_probe_power(int n, int n_modes, size_t stride, const pty_cf *probe, float *power);

/* probe += sums[0] + sums[1] + ... (n_sums probe-step sums, sum w at w *
 * sum_stride, added in that order at each pixel: a set's lanes), over n
 * pixels, then the probe's power as pty_rows_probe_power gives it, in the
 * same sweep; returns its maximum. */
float pty_rows_add_steps(int n, int n_modes, size_t stride, pty_cf *probe, const pty_cf *sums, int n_sums,
                         size_t sum_stride, float *power);

/* Exit waves psi_k = P_k O over a window, into psi (the far field's buffer,
 * transformed in place); when obj_max is not NULL it is raised to max |O|^2
 * there (NaN pixels leave it alone). */
void pty_rows_exit_waves(int nr, int m, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w,
                         const pty_cf *probe, pty_cf *psi, float *obj_max);

/* Modulus projection of n consecutive far-field pixels (pty_modulus_factor); returns their
 * Fourier error numerator (pty_fourier_error_term). */
double pty_rows_project(int n, int n_modes, size_t stride, const float *amp, pty_cf *far);

/* The joint update of a window from the back-propagated far field `far`
 * (unscaled; inv_n = 1/N) and the exit waves P_k O: the object in place, each pixel by
 * obj_step[pixel] (pty_object_step of the probe's power there; NULL: the
 * one step `step`, ePIE's), and when probe_step != 0 the probe steps added
 * to probe_out (pty_probe_increment).  far is left as it was (Delta_k,
 * pty_exit_delta, is used where it is made).
 * probe_out may be `probe` itself (sequential order): each pixel reads its
 * probe before adding to it, as pty_update_pixel does.  probe_out_fresh:
 * probe_out holds nothing yet, and the steps are written, with the bits
 * adding them to zeros would give, instead of read and added to.  Unless
 * probe_out_max is NULL, it is raised to the maximum over the rows of
 * sum_k |probe_out_k|^2 after the update, the bits pty_rows_probe_power
 * gives: in sequential order the next position's object step, taken
 * while each row is in cache instead of in one more pass over the probe. */
void pty_rows_update(int nr, int m, int n_modes, size_t stride, pty_cf *obj, size_t obj_w, const pty_cf *probe,
                     const pty_cf *far, float inv_n, const float *obj_step, float step, float probe_step,
                     pty_cf *probe_out, int probe_out_fresh, float *probe_out_max);

/* Position correction: the run's share of the four sums of pty_position_terms, added to sums[]
 * (num_row, den_row, num_col, den_col).  obj is the run's first object pixel in an object of row
 * stride obj_w, before this position's update; up/down say whether the rows above and below
 * belong to the window.  Derivatives never reach beyond the window (one-sided at its edge): the
 * windows of a set touch, and a neighbour's pixels may be changing under another thread.  back is
 * the unscaled back-propagated far field, before pty_rows_update turns it into Delta (the exit
 * waves are P_k O); weight the run's weights (the object's illumination, pty_position_terms). */
void pty_rows_position_terms(int n, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w, int up, int down,
                             const pty_cf *probe, const pty_cf *back, float inv_n, const float *weight,
                             double sums[4]);

/* Moving a probe by a Fourier shift (the CPU backend's move_probe), on its
 * spectrum: out = row u of every mode of x times the phase ramp a col[v], a
 * = the row's factor, each pixel's factor made as pty_cmul(a, col[v]) and
 * the mode's pixel multiplied by it with pty_cmul; accumulate: added to out
 * instead.  out may be x. */
void pty_rows_shift_row(int m, int n_modes, size_t stride, pty_cf a, const pty_cf *col, const pty_cf *x, pty_cf *out,
                        int accumulate);

/* dst_k = s y_k, or dst_k += s y_k where accumulate, over n pixels of every
 * mode (re and im each times s): an unscaled inverse transform brought
 * back to scale. */
void pty_rows_scaled(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst, int accumulate);

/* dst_k = s y_k as pty_rows_scaled writes it, and in the same sweep the
 * new probe's power as pty_rows_probe_power gives it (written to power
 * unless NULL); returns its maximum: a moved probe made ready at once. */
float pty_rows_scaled_power(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst, float *power);

#endif /* PTY_CPU_ROWS_H */
