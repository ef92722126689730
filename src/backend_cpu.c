/* backend_cpu.c - the reference backend: sequential ePIE on the CPU with
 * FFTW plans made once.  Each position runs the same per-pixel functions
 * (pty_pixel.h) the CUDA kernels run; OpenMP spreads a position's pixel
 * loops and the batch of K mode FFTs over cores once a position carries
 * enough work to pay for the fork (see PTY_CPU_PARALLEL_PIXELS). */
#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "pty_error.h"

/* Below this many pixels x modes per position, one thread.  A parallel
 * region per position costs little on idle cores (64x64, 1 mode: 20.5 ms/it
 * on two threads vs 22.6 on one) but OpenMP's spinning workers collapse when
 * the machine is oversubscribed: two such runs side by side on 2 cores went
 * from 5 s to over 3 minutes.  Small frames stay serial until the batched
 * engine (threads over sets of positions) lands; from 128x128 threads pay
 * (199 vs 156 ms/it). */
#define PTY_CPU_PARALLEL_PIXELS 16384

typedef struct cpu_impl {
    int m, n_frames, n_modes, obj_h, obj_w, n_threads;
    size_t npix;                 /* m*m */
    float *amplitudes;           /* n_frames*npix */
    int *window;                 /* n_frames*2 */
    pty_cf *object, *probe;      /* obj_h*obj_w, n_modes*npix */
    pty_cf *psi, *far;           /* exit waves, far field / delta: n_modes*npix each */
    fftwf_plan forward, inverse; /* K transforms psi -> far, far -> far */
} cpu_impl;

static void cpu_destroy(void *p)
{
    cpu_impl *c = p;
    if (!c) return;
    if (c->forward) fftwf_destroy_plan(c->forward);
    if (c->inverse) fftwf_destroy_plan(c->inverse);
    fftwf_free(c->psi);
    fftwf_free(c->far);
    fftwf_free(c->object);
    fftwf_free(c->probe);
    free(c->amplitudes);
    free(c->window);
    free(c);
}

static int cpu_create(const pty_backend_setup *s, void **out)
{
    *out = NULL;
    cpu_impl *c = calloc(1, sizeof *c);
    if (!c) return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the CPU backend");
    c->m = s->m;
    c->n_frames = s->n_frames;
    c->n_modes = s->n_modes;
    c->obj_h = s->obj_h;
    c->obj_w = s->obj_w;
    c->npix = (size_t)s->m * s->m;
    c->n_threads = s->n_threads > 0 ? s->n_threads : omp_get_max_threads();
    if (c->npix * c->n_modes < PTY_CPU_PARALLEL_PIXELS) c->n_threads = 1;
    const size_t nobj = (size_t)s->obj_h * s->obj_w, nprobe = c->npix * s->n_modes;
    const size_t nframes = (size_t)s->n_frames * c->npix;
    c->amplitudes = malloc(nframes * sizeof *c->amplitudes);
    c->window = malloc((size_t)s->n_frames * 2 * sizeof *c->window);
    c->object = (pty_cf *)fftwf_alloc_complex(nobj);
    c->probe = (pty_cf *)fftwf_alloc_complex(nprobe);
    c->psi = (pty_cf *)fftwf_alloc_complex(nprobe);
    c->far = (pty_cf *)fftwf_alloc_complex(nprobe);
    if (!c->amplitudes || !c->window || !c->object || !c->probe || !c->psi || !c->far) {
        double gib = (nframes * 4.0 + nobj * 8.0 + 3.0 * nprobe * 8.0) / (1 << 30);
        cpu_destroy(c);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %.2f GiB of host memory for the CPU backend", gib);
    }
    /* plan before filling: FFTW_MEASURE overwrites the arrays it plans on */
    static int threads_ready = 0;
    if (!threads_ready) threads_ready = fftwf_init_threads();
    int n[2] = {s->m, s->m};
    unsigned flags = s->fft_flags == PTY_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
    fftwf_plan_with_nthreads(c->n_threads);
    c->forward = fftwf_plan_many_dft(2, n, s->n_modes, (fftwf_complex *)c->psi, NULL, 1, (int)c->npix,
                                     (fftwf_complex *)c->far, NULL, 1, (int)c->npix, FFTW_FORWARD, flags);
    c->inverse = fftwf_plan_many_dft(2, n, s->n_modes, (fftwf_complex *)c->far, NULL, 1, (int)c->npix,
                                     (fftwf_complex *)c->far, NULL, 1, (int)c->npix, FFTW_BACKWARD, flags);
    if (!c->forward || !c->inverse) {
        cpu_destroy(c);
        return pty_error_set(PTY_ERR_FFT, "FFTW could not plan %d transforms of %dx%d", s->n_modes, s->m, s->m);
    }
    memcpy(c->amplitudes, s->amplitudes, nframes * sizeof *c->amplitudes);
    memcpy(c->window, s->window, (size_t)s->n_frames * 2 * sizeof *c->window);
    memcpy(c->object, s->object, nobj * sizeof *c->object);
    memcpy(c->probe, s->probe, nprobe * sizeof *c->probe);
    *out = c;
    return PTY_OK;
}

static float object_max_power(const cpu_impl *c)
{
    float mx = 0.0f;
    const size_t n = (size_t)c->obj_h * c->obj_w;
#pragma omp parallel for reduction(max : mx) num_threads(c->n_threads) if (c->n_threads > 1)
    for (size_t i = 0; i < n; i++) mx = fmaxf(mx, pty_cabs2(c->object[i]));
    return mx;
}

/* One position: exit waves, projection, back-propagation, joint update. */
static double cpu_position(cpu_impl *c, int j, const pty_pass_params *p, float global_obj_max)
{
    const int m = c->m, K = c->n_modes, nt = c->n_threads;
    const size_t npix = c->npix;
    pty_cf *obj = c->object + (size_t)c->window[2 * j] * c->obj_w + c->window[2 * j + 1];
    const float *amp = c->amplitudes + (size_t)j * npix;
    const int stride = c->obj_w;
    float patch_max = 0.0f, probe_max = 0.0f;

#pragma omp parallel for reduction(max : patch_max, probe_max) num_threads(nt) if (nt > 1)
    for (int r = 0; r < m; r++) {
        for (int col = 0; col < m; col++) {
            size_t i = (size_t)r * m + col;
            pty_cf o = obj[(size_t)r * stride + col];
            float pp = 0.0f;
            for (int k = 0; k < K; k++) {
                pty_cf pk = c->probe[k * npix + i];
                c->psi[k * npix + i] = pty_cmul(pk, o);
                pp += pty_cabs2(pk);
            }
            patch_max = fmaxf(patch_max, pty_cabs2(o));
            probe_max = fmaxf(probe_max, pp);
        }
    }

    fftwf_execute_dft(c->forward, (fftwf_complex *)c->psi, (fftwf_complex *)c->far);

    double err = 0.0;
#pragma omp parallel for reduction(+ : err) num_threads(nt) if (nt > 1)
    for (size_t i = 0; i < npix; i++) {
        float model = 0.0f;
        for (int k = 0; k < K; k++) model += pty_cabs2(c->far[k * npix + i]);
        err += pty_fourier_error_term(amp[i], model);
        float f = pty_modulus_factor(amp[i], model);
        for (int k = 0; k < K; k++) {
            c->far[k * npix + i].re *= f;
            c->far[k * npix + i].im *= f;
        }
    }

    fftwf_execute_dft(c->inverse, (fftwf_complex *)c->far, (fftwf_complex *)c->far);

    const float inv_n = 1.0f / (float)npix;
    const float obj_max = p->obj_norm == PTY_OBJNORM_GLOBAL ? global_obj_max : patch_max;
    const float probe_step = (p->beta > 0.0f && obj_max > 0.0f) ? p->beta / obj_max : 0.0f;
    if (probe_max <= 0.0f) return err; /* a dark probe cannot update anything */
#pragma omp parallel for num_threads(nt) if (nt > 1)
    for (int r = 0; r < m; r++) {
        for (int col = 0; col < m; col++) {
            size_t i = (size_t)r * m + col;
            for (int k = 0; k < K; k++) c->far[k * npix + i] = pty_exit_delta(c->far[k * npix + i], c->psi[k * npix + i], inv_n);
            pty_update_pixel(&obj[(size_t)r * stride + col], &c->probe[i], &c->far[i], npix, K, p->alpha, p->rpie,
                             probe_max, probe_step);
        }
    }
    return err;
}

static int cpu_pass(void *impl, const int *order, int n, const pty_pass_params *p, double *err_num)
{
    cpu_impl *c = impl;
    float global_obj_max = p->obj_norm == PTY_OBJNORM_GLOBAL ? object_max_power(c) : 0.0f;
    double err = 0.0;
    for (int t = 0; t < n; t++) err += cpu_position(c, order[t], p, global_obj_max);
    *err_num = err;
    return PTY_OK;
}

static int cpu_get_object(void *impl, pty_cf *out)
{
    cpu_impl *c = impl;
    memcpy(out, c->object, (size_t)c->obj_h * c->obj_w * sizeof *out);
    return PTY_OK;
}

static int cpu_get_probe(void *impl, pty_cf *out)
{
    cpu_impl *c = impl;
    memcpy(out, c->probe, c->npix * c->n_modes * sizeof *out);
    return PTY_OK;
}

static int cpu_set_probe(void *impl, const pty_cf *in)
{
    cpu_impl *c = impl;
    memcpy(c->probe, in, c->npix * c->n_modes * sizeof *in);
    return PTY_OK;
}

static int cpu_set_object(void *impl, const pty_cf *in)
{
    cpu_impl *c = impl;
    memcpy(c->object, in, (size_t)c->obj_h * c->obj_w * sizeof *in);
    return PTY_OK;
}

const pty_backend_ops pty_backend_cpu = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .pass = cpu_pass,
    .get_object = cpu_get_object,
    .get_probe = cpu_get_probe,
    .set_probe = cpu_set_probe,
    .set_object = cpu_set_object,
};
