/* test_gpu_schedule.c - the CUDA backend's host-side decisions, on the CPU:
 * batch and frame placement against a memory budget, the chunks a set is
 * split into, and the copies that stream a chunk's frames. */
#include <stdio.h>
#include <string.h>

#include "gpu_schedule.h"
#include "pty_error.h"
#include "pty_test.h"
#include "sets.h"

static const size_t GiB = (size_t)1 << 30;

/* A stand-in for cuFFT: a work area as large as the batch's data. */
static size_t fake_work(void *user, int batch)
{
    const pty_gpu_sizes *z = user;
    return (size_t)batch * z->n_modes * z->m * z->m * 8;
}

/* cuFFT that cannot plan more than 16 positions (a driver limit, or no memory for the plan). */
static size_t work_up_to_16(void *user, int batch) { return batch > 16 ? PTY_GPU_NO_PLAN : fake_work(user, batch); }

/* cuFFT that cannot plan at all. */
static size_t no_plan(void *user, int batch)
{
    (void)user;
    (void)batch;
    return PTY_GPU_NO_PLAN;
}

int main(void)
{
    /* the seed case: 21,000 frames of 256^2 (5.1 GiB), sets of up to 140 windows */
    pty_gpu_sizes seed = {256, 1, 21000, (size_t)3756 * 2656, 140, 0, 0};
    const size_t npix = 256 * 256;
    size_t resident = pty_gpu_layout_bytes(&seed, 256, 0, 0), streamed = pty_gpu_layout_bytes(&seed, 256, 1, 0);
    PTY_TEST("resident layout holds every frame", resident > (size_t)21000 * npix * 4);
    PTY_TEST("streamed layout holds two staging buffers instead",
             resident - streamed == (size_t)(21000 - 512) * npix * 4);

    pty_gpu_sizes sub = seed;
    sub.subpixel = 1;
    PTY_TEST("sub-pixel positions add a moved probe per batch position, two spectra, the offsets and the moved "
             "probes' maxima, and drop the 8 group accumulators",
             pty_gpu_layout_bytes(&sub, 256, 0, 0) + (size_t)8 * npix * 8 - resident ==
                 (size_t)256 * npix * 8 + 2 * npix * 8 + (size_t)21000 * 2 * 4 + 256 * 4);
    sub.refine_positions = 1;
    PTY_TEST("position correction adds the object's weights and four sums a frame",
             pty_gpu_layout_bytes(&sub, 256, 0, 0) + (size_t)8 * npix * 8 - resident ==
                 (size_t)256 * npix * 8 + 2 * npix * 8 + (size_t)21000 * 2 * 4 + 256 * 4 +
                     (size_t)3756 * 2656 * 4 + (size_t)21000 * 4 * 8);

    pty_gpu_layout l;
    PTY_TEST("an H100's 80 GB: frames resident, batch 256 covers the largest set",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, 80 * GiB, fake_work, &seed, &l) == PTY_OK &&
                 l.batch == 256 && !l.streamed && l.groups == PTY_GPU_MAX_GROUPS &&
                 l.bytes == pty_gpu_layout_bytes(&seed, 256, 0, fake_work(&seed, 256)));
    const size_t room64 = pty_gpu_layout_bytes(&seed, 64, 0, fake_work(&seed, 64)) + PTY_GPU_RESERVE_BYTES;
    PTY_TEST("room for batch 64 (not 128): resident with batch 64",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, room64, fake_work, &seed, &l) == PTY_OK && !l.streamed &&
                 l.batch == 64 && l.bytes + PTY_GPU_RESERVE_BYTES == room64);
    const size_t room4 = pty_gpu_layout_bytes(&seed, 4, 0, fake_work(&seed, 4)) + PTY_GPU_RESERVE_BYTES;
    PTY_TEST("room for resident frames only at batch 4: auto streams with the full batch instead",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, room4, fake_work, &seed, &l) == PTY_OK && l.streamed &&
                 l.batch == 256);
    PTY_TEST("4 GiB free (less than the frames): streamed with the full batch",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, 4 * GiB, fake_work, &seed, &l) == PTY_OK && l.streamed &&
                 l.batch == 256);
    PTY_TEST("streamed when asked, even with room",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_STREAMED, 80 * GiB, fake_work, &seed, &l) == PTY_OK &&
                 l.streamed && l.batch == 256);
    PTY_TEST("resident when asked goes below the usual smallest batch",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_RESIDENT, room4, fake_work, &seed, &l) == PTY_OK && !l.streamed &&
                 l.batch == 4);
    int rc = pty_gpu_choose_layout(&seed, PTY_FRAMES_RESIDENT, 4 * GiB, fake_work, &seed, &l);
    printf("  %s\n", pty_error_message());
    PTY_TEST("resident frames that cannot fit: PTY_ERR_NOMEM", rc == PTY_ERR_NOMEM);
    PTY_TEST("... naming the memory and the way out",
             strstr(pty_error_message(), "the GPU has 4.00 GiB free, too little for this reconstruction: with the "
                                         "frames on the GPU (--gpu-frames resident) it needs 5.45 GiB") &&
                 strstr(pty_error_message(), "try --gpu-frames auto"));
    rc = pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, GiB / 8, fake_work, &seed, &l);
    printf("  %s\n", pty_error_message());
    PTY_TEST("not even streaming fits: PTY_ERR_NOMEM with the advice for streamed frames",
             rc == PTY_ERR_NOMEM && strstr(pty_error_message(), "with the frames streamed from host memory it still needs") &&
                 strstr(pty_error_message(), "use fewer --modes or more ranks"));

    pty_gpu_sizes seq = seed;
    seq.max_set = 1;
    PTY_TEST("sequential order: batch 1, one group",
             pty_gpu_choose_layout(&seq, PTY_FRAMES_AUTO, 80 * GiB, fake_work, &seq, &l) == PTY_OK && l.batch == 1 &&
                 l.groups == 1 && !l.streamed);
    pty_gpu_sizes big = {512, 64, 1000, (size_t)4096 * 4096, 1000, 0, 0};
    PTY_TEST("a batched plan stays within cuFFT's 32-bit element count",
             pty_gpu_choose_layout(&big, PTY_FRAMES_AUTO, (size_t)1 << 50, fake_work, &big, &l) == PTY_OK &&
                 (long long)l.batch * 512 * 512 * 64 <= 2147483647LL && l.batch == 64);
    pty_gpu_sizes bad = seed;
    bad.max_set = 0;
    PTY_TEST("sizes are checked", pty_gpu_choose_layout(&bad, PTY_FRAMES_AUTO, 80 * GiB, fake_work, &bad, &l) ==
                                      PTY_ERR_ARG);
    PTY_TEST("a batch cuFFT cannot plan is skipped for the largest one it can",
             pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, 80 * GiB, work_up_to_16, &seed, &l) == PTY_OK &&
                 l.batch == 16 && !l.streamed && l.fft_work == fake_work(&seed, 16));
    rc = pty_gpu_choose_layout(&seed, PTY_FRAMES_AUTO, 80 * GiB, no_plan, &seed, &l);
    PTY_TEST("no plan at all is refused by name, not as a huge memory need",
             rc == PTY_ERR_NOMEM && strstr(pty_error_message(), "cuFFT cannot plan even one 256x256 transform of 1 mode"));
    pty_error_clear();

    /* the plan's own sets are one chunk each; another size runs as the
       binary digits of its size, capped by the batch */
    const int set_end[3] = {137, 137 + 130, 137 + 130 + 3};
    PTY_TEST("largest set", pty_sets_largest(set_end, 3) == 137 && pty_sets_largest(NULL, 0) == 1);
    unsigned char need[257] = {0}, need64[65] = {0};
    pty_gpu_chunk_sizes(set_end, 3, 256, need);
    int n_need = 0;
    for (int c = 1; c <= 256; c++) n_need += need[c];
    PTY_TEST("batch 256: plans for the sizes 137, 130, 3 and the 9 powers of two",
             n_need == 12 && need[137] && need[130] && need[3] && need[1] && need[256]);
    pty_gpu_chunk_sizes(set_end, 3, 64, need64);
    PTY_TEST("batch 64: plans for 64 and the remainders 9, 2, 3",
             need64[64] && need64[9] && need64[2] && need64[3] && !need64[10]);
    int chunks[16], n = 0;
    for (int rem = 137; rem > 0; rem -= chunks[n++]) chunks[n] = pty_gpu_next_chunk(rem, 256, need);
    PTY_TEST("a set of 137 with its plan: one chunk", n == 1 && chunks[0] == 137);
    n = 0;
    for (int rem = 137; rem > 0; rem -= chunks[n++]) chunks[n] = pty_gpu_next_chunk(rem, 64, need64);
    PTY_TEST("137 positions, batch 64: chunks 64 + 64 + 9", n == 3 && chunks[0] == 64 && chunks[1] == 64 && chunks[2] == 9);
    n = 0;
    for (int rem = 139; rem > 0; rem -= chunks[n++]) chunks[n] = pty_gpu_next_chunk(rem, 256, need);
    PTY_TEST("139 positions, no plan of 139: chunks 128 + 8 + 3 (3 is planned)",
             n == 3 && chunks[0] == 128 && chunks[1] == 8 && chunks[2] == 3);
    n = 0;
    for (int rem = 137; rem > 0; rem -= chunks[n++]) chunks[n] = pty_gpu_next_chunk(rem, 256, NULL);
    PTY_TEST("no plan table: binary digits 128 + 8 + 1",
             n == 3 && chunks[0] == 128 && chunks[1] == 8 && chunks[2] == 1);
    PTY_TEST("a set of one is one chunk of one", pty_gpu_next_chunk(1, 256, need) == 1);

    /* copies of a chunk of streamed frames */
    int slot_of[10], run_slot[10], run_len[10];
    for (int j = 0; j < 10; j++) slot_of[j] = 9 - j; /* stored in reverse */
    int set_frames[4] = {6, 5, 4, 3};               /* slots 3, 4, 5, 6 */
    int runs = pty_gpu_copy_runs(set_frames, 4, slot_of, run_slot, run_len);
    PTY_TEST("a set stored contiguously is one copy", runs == 1 && run_slot[0] == 3 && run_len[0] == 4);
    int scattered[4] = {0, 2, 1, 9}; /* slots 9, 7, 8, 0 */
    runs = pty_gpu_copy_runs(scattered, 4, slot_of, run_slot, run_len);
    PTY_TEST("scattered frames: one copy per run of consecutive slots",
             runs == 3 && run_slot[0] == 9 && run_len[0] == 1 && run_slot[1] == 7 && run_len[1] == 2 &&
                 run_slot[2] == 0 && run_len[2] == 1);
    return pty_test_report();
}
