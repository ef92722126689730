/* tiff_io.h - float32 TIFF images for Fiji and tifffile, and grayscale input.
 * (Declared by the engine side; implemented in tiff_io.c.) */
#ifndef PTY_TIFF_IO_H
#define PTY_TIFF_IO_H

#ifdef __cplusplus
extern "C" {
#endif

/* Write n_pages float32 pages of h x w (page-major) to path via path.tmp +
 * rename; resolution tags from pixel_size_m when > 0; description goes into
 * the ImageJ ImageDescription.  PTY_ERR_IO naming the path on failure. */
int pty_tiff_write_float(const char *path, const float *pages, int n_pages, int h, int w, double pixel_size_m,
                         const char *description);

/* Read the first page of a grayscale (or RGB, as luminance) TIFF into a
 * malloc'd float array (free with free()). */
int pty_tiff_read_gray(const char *path, float **out, int *h, int *w);

#ifdef __cplusplus
}
#endif
#endif /* PTY_TIFF_IO_H */
