/* test_images.h - smooth random test images for the registration and
 * merge tests: white noise low-passed by a Gaussian in Fourier space. */
#ifndef PTY_TEST_IMAGES_H
#define PTY_TEST_IMAGES_H

#include <math.h>

#include <fftw3.h>

#include "pty_pixel.h"

/* Multiply the spectrum by exp(-f^2 / (2 sigma^2)), f in cycles per pixel. */
static void lowpass(pty_cf *img, int h, int w, double sigma)
{
    fftwf_complex *z = (fftwf_complex *)img;
    fftwf_plan fwd = fftwf_plan_dft_2d(h, w, z, z, FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_plan inv = fftwf_plan_dft_2d(h, w, z, z, FFTW_BACKWARD, FFTW_ESTIMATE);
    fftwf_execute(fwd);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            double fr = (double)(i < (h + 1) / 2 ? i : i - h) / h, fc = (double)(j < (w + 1) / 2 ? j : j - w) / w;
            float g = (float)(exp(-(fr * fr + fc * fc) / (2 * sigma * sigma)) / ((double)h * w));
            img[(size_t)i * w + j].re *= g;
            img[(size_t)i * w + j].im *= g;
        }
    fftwf_execute(inv);
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(inv);
}

#endif /* PTY_TEST_IMAGES_H */
