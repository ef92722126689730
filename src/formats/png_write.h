/* png_write.h - 8-bit grayscale PNG quick-looks (any browser or viewer
 * opens them; the float TIFFs stay the data).  Needs only zlib. */
#ifndef PTY_PNG_WRITE_H
#define PTY_PNG_WRITE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Write h x w values mapped linearly from [lo, hi] to 0..255 (clipped;
 * lo >= hi: the 0.5 and 99.5 percentiles of the finite values).  Written
 * to a temporary name and renamed.  Errors: PTY_ERR_ARG, PTY_ERR_IO,
 * PTY_ERR_NOMEM. */
int pty_png_write_gray(const char *path, const float *img, int h, int w, float lo, float hi);

#ifdef __cplusplus
}
#endif
#endif /* PTY_PNG_WRITE_H */
