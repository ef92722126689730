/* tiff_io.h - float32 TIFF stacks that Fiji and tifffile open, and
 * grayscale TIFF input for simulated objects.
 *
 * Written stacks use ImageJ's layout (one IFD per page, the pixel data of
 * all pages contiguous, "ImageJ=...\nimages=N" description) so ImageJ can
 * open them as a stack, and resolution tags in pixels per centimetre with
 * "unit=um" in the description, which ImageJ converts to microns. */
#ifndef PTY_TIFF_IO_H
#define PTY_TIFF_IO_H

#ifdef __cplusplus
extern "C" {
#endif

/* Write n_pages float32 pages of h x w (row-major, page after page) as one
 * TIFF.  pixel_size_m > 0 sets XResolution/YResolution (pixels per cm) and
 * the ImageJ unit; description (may be NULL) is appended to the ImageJ
 * description.  The file appears under `path` only when complete: it is
 * written to "<path>.tmp" and renamed; on failure the tmp file is removed
 * and PTY_ERR_IO (or PTY_ERR_ARG for bad sizes) is returned naming the path. */
int pty_tiff_write_float(const char *path, const float *pages, int n_pages, int h, int w, double pixel_size_m,
                         const char *description);

/* Read the first page of a grayscale TIFF (8/16/32-bit signed or unsigned
 * integer, 32/64-bit float; RGB and palette images are converted to
 * luminance 0.299 R + 0.587 G + 0.114 B) into *out (h*w floats, row-major,
 * malloc'd: the caller frees it with free()).  Values are not rescaled.
 * PTY_ERR_IO when the file is missing, unreadable or not a TIFF, PTY_ERR_DATA
 * for a layout it cannot convert; *out is NULL on failure. */
int pty_tiff_read_gray(const char *path, float **out, int *h, int *w);

#ifdef __cplusplus
}
#endif
#endif /* PTY_TIFF_IO_H */
