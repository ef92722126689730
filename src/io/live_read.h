/* live_read.h - follow an HDF5 scan file while it is being written.
 *
 * The file's layout is live_write.h's (what `ptycho replay` and a beamline
 * writer following it produce), or any CXI/HDF5 scan whose frames and
 * positions grow along their first axis, with the paths and units of
 * pty_read_options.  How far to read:
 *   /entry_1/live/frames_written present: frames [0, frames_written), read
 *     first, the datasets refreshed after it (the writer's protocol);
 *     complete when /entry_1/live/complete is 1 or frames_written reaches
 *     frames_planned;
 *   absent: the frames both datasets hold (the smaller extent); complete
 *     when that reaches frames_planned (given by the caller: a Bluesky or
 *     ptychodus writer states the scan's length up front), or when no
 *     writer holds the file (it opens without SWMR).
 * The object's extent comes from /entry_1/live/planned_translation when the
 * writer states it. */
#ifndef PTY_LIVE_READ_H
#define PTY_LIVE_READ_H

#include "cxi_read.h"
#include "frame_source.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open o->path as a source, waiting up to timeout_s for it to appear and
 * to become readable (a writer creating it); frames_planned > 0 overrides
 * what the file states.  Messages name the file, the dataset and the flag. */
int pty_live_source_open(const pty_read_options *o, double timeout_s, long long frames_planned,
                         pty_frame_source **out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_LIVE_READ_H */
