/* cpu_rows_avx512.c - cpu_rows.c's loops again, in vectors of 16 floats,
 * compiled for x86-64-v4 (AVX-512; CMakeLists.txt sets the flags), under
 * the names name_avx512 (cpu_rows_copy.h).  cpu_rows_dispatch.c runs them
 * only on a CPU that has AVX-512. */
#include "cpu_rows_copy.h"

#ifdef PTY_ROWS_HAVE_AVX512
#define PTY_ROWS_AVX512
#include "cpu_rows.c"
#endif
