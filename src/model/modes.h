/* modes.h - incoherent probe modes: eigen-orthogonalisation and seeding.
 *
 * Orthogonalisation diagonalises the K x K Gram matrix G_kl = sum_r P_k P_l*
 * and applies its eigenvectors to the modes (DESIGN.md §2): the incoherent
 * intensity sum_k |P_k|^2 is kept exactly, the result does not depend on the
 * mode order (unlike Gram-Schmidt), and modes come out sorted by power. */
#ifndef PTY_MODES_H
#define PTY_MODES_H

#include <stddef.h>

#include "pty_pixel.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Orthogonalise K modes of npix pixels in place (mode k at probe + k*npix),
 * sorted by decreasing power.  power[k] (may be NULL) receives sum_r |P_k|^2.
 * Returns PTY_ERR_NOMEM if scratch memory cannot be had. */
int pty_modes_orthogonalize(pty_cf *probe, int n_modes, size_t npix, double *power);

/* The same with caller's scratch of pty_modes_scratch_bytes(n_modes, npix)
 * bytes, malloc-aligned (0 for one mode: scratch may be NULL then), so a
 * reconstruction's iterations allocate nothing.  Cannot fail. */
size_t pty_modes_scratch_bytes(int n_modes, size_t npix);
int pty_modes_orthogonalize_in(pty_cf *probe, int n_modes, size_t npix, double *power, void *scratch);

/* Seed modes 1..K-1 from mode 0: each is mode 0 times a smooth random phase
 * (random low-order polynomial, so modes are not colinear copies that the
 * orthogonalisation would erase), scaled to `fraction` of mode 0's power,
 * then all are orthogonalised.  m x m pixels per mode. */
int pty_modes_seed(pty_cf *probe, int n_modes, int m, float fraction, pty_rng *rng);

/* Rotate K modes onto a reference set: probe <- U probe with the unitary U
 * (K x K) that minimises ||ref - U probe|| (orthogonal Procrustes: U is the
 * polar factor of M_kl = sum_r ref_k conj(probe_l)).  Incoherent modes are
 * only defined up to such a U (and each up to a phase), so two ranks' probes
 * must be aligned before they can be averaged.  sum_k |P_k|^2 is unchanged. */
int pty_modes_align(const pty_cf *ref, pty_cf *probe, int n_modes, size_t npix);

/* Share of the total power in each mode (sums to 1). */
void pty_modes_power_share(const pty_cf *probe, int n_modes, size_t npix, double *share);

#ifdef __cplusplus
}
#endif
#endif /* PTY_MODES_H */
