/* opts_epie.c - the ePIE block (pty_recon_params and the iteration count),
 * taken by recon and bench.  The parameters' ranges are the library's,
 * pty_recon_params_check; the help states them, the table does not. */
#include "opts.h"

static const char *const backend_names[] = {"auto", "cpu", "cuda"};
static const char *const obj_norm_names[] = {"patch", "global"}; /* PTY_OBJNORM_* */

static int check_epie(void *ctx)
{
    return pty_recon_params_check(ctx);
}

void pty_opts_epie(pty_opt_block *b, pty_recon_params *p, int *iterations)
{
    /* --rpie keeps its [0, 1] in the table: a negative value is the library's "off" and must not be
       reachable by mistake (the library's range, (0, 1], is checked with the rest) */
    const pty_option table[] = {
        PTY_OPT("iterations", PTY_OPT_INT, iterations, 1, 1000000, "ePIE iterations"),
        PTY_OPT("modes", PTY_OPT_INT, &p->n_modes, 1, 0, "incoherent probe modes K, 1 to 64"),
        PTY_OPT("alpha", PTY_OPT_FLOAT, &p->alpha, 1, 0, "object step, in (0, 2]"),
        PTY_OPT("beta", PTY_OPT_FLOAT, &p->beta, 1, 0, "probe step, in [0, 2], 0 = keep the probe fixed"),
        PTY_OPT("rpie", PTY_OPT_FLOAT, &p->rpie, 0, 1, "use rPIE with this regularisation a in (0, 1], e.g. 0.1 (default off: ePIE)"),
        PTY_CHOICE("obj-norm", &p->obj_norm, obj_norm_names, 2, "max|O|^2 of the probe step: global|patch"),
        PTY_OPT("probe-start", PTY_OPT_INT, &p->probe_start, 1, 0, "first iteration that updates the probe, >= 0"),
        PTY_OPT("mode-power", PTY_OPT_FLOAT, &p->mode_power, 1, 0, "initial power of each extra mode, fraction of mode 1, in (0, 1)"),
        PTY_OPT("ortho-every", PTY_OPT_INT, &p->ortho_every, 1, 0, "orthogonalise modes every N iterations, 0 = never"),
        PTY_OPT("position-correction", PTY_OPT_INT, &p->position_start, 0, 1000000, "refine the scan positions from iteration START on (0-based, like --probe-start; the gradient method of PtychoShelves, mean move removed), writing them to /positions_refined_px (default off)"),
        PTY_OPT("position-max-step", PTY_OPT_FLOAT, &p->position_max_step, 1, 0, "most a position moves per axis and iteration, pixels, in (0, 8] (default 0.3)"),
        PTY_OPT("position-affine", PTY_OPT_FLAG, &p->position_affine, 1, 0, "position correction also removes a global affine map (scale, rotation, shear) of the positions, not only their mean shift"),
        PTY_OPT("no-probe-centering", PTY_OPT_UNSET, &p->center_probe, 1, 0, "let probe and object drift together (default: keep the probe centred in its window)"),
        PTY_OPT("seed", PTY_OPT_U64, &p->seed, 0, 18446744073709551615.0, "random seed for position order and mode seeding"),
        PTY_OPT("pad", PTY_OPT_INT, &p->pad, 1, 0, "object margin around the scan, pixels, 0 to 4096"),
        PTY_CHOICE("backend", &p->backend, backend_names, 3, "auto|cpu|cuda (default auto: CUDA if a GPU is present)"),
        PTY_CHOICE("order", &p->order, pty_order_names, 3, "sequential (one position at a time) | batched (sets of non-overlapping windows at once: GPU batches, CPU threads) | auto (default: batched on a GPU or more than one CPU thread)"),
        PTY_CHOICE("gpu-frames", &p->gpu_frames, pty_gpu_frames_names, 3, "auto|resident|streamed: frames on the GPU, or streamed from host memory chunk by chunk (default auto: on the GPU when they fit)"),
        PTY_OPT("fft-wisdom", PTY_OPT_STRING, &p->fft_wisdom, 1, 0, "CPU: FFTW plans read from FILE and saved back; runs sharing FILE (and flags) give identical results (default: plans timed afresh)"),
        PTY_OPT("threads", PTY_OPT_INT, &p->n_threads, 0, 1024, "CPU threads, 0 = all cores, shared among the MPI ranks of a node"),
    };
    PTY_OPT_BLOCK(b, "ePIE", table, check_epie, p);
}
