/* runner/rn-pool.h: the worker pool (pool.c), the live status line
 * (progress.c) and guestkit status (status.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_POOL_H
#define RN_POOL_H

#include <stddef.h>
#include <stdio.h>

#include "rn-db.h"

/* ---- pool.c: the worker pool, watchdog, signals and progress ---- */

struct rn_pool_opts {
  int workers;               /* 0: rn_default_workers() */
  int verbose;
  int quiet;
};
/* Peak qemu RSS of one appliance (MiB) beyond its guest RAM, measured by
 * tests/bench-density.sh right after a 100 MiB transfer (347 MiB with
 * -m 256, 219 with -m 128: the whole guest RAM is resident after a
 * restore, plus about 91 MiB with the 64 MiB TCG code buffer of
 * core/launch.c), rounded up.  Free page reporting brings a
 * 256 MiB appliance down to about 167 MiB idle and 217 MiB a few seconds
 * after a transfer, but only 2 s after memory is freed, and a 128 MiB
 * guest does not report at all: the rule budgets the peak, which it
 * still reaches.  GUESTKIT_APPLIANCE_MIB replaces the sum.
 * The same sums size a Slurm or Kubernetes shard (shard-gen.c). */
#define RN_APPLIANCE_OVER_MIB 96
#define RN_DEFAULT_MEMSIZE_MIB 256    /* the library's, without LIBGUESTFS_MEMSIZE */
#define RN_HOST_RESERVE_MIB 256       /* kept for the runner, sqlite, the host */

/* Default workers: what cores and memory allow (pool.c; the rule is in
 * runner/README.md).  rn_choose_workers: for appliances of memsize MiB
 * (0: the library's default), saying why in why[]. */
int rn_default_workers (void);
int rn_choose_workers (int memsize, char *why, size_t size);

/* Run every pending task of v; returns RN_EXIT_OK or RN_EXIT_FAILED. */
int rn_pool_run (struct rn_db *db, struct rn_task *v, size_t n,
                 const struct rn_pool_opts *o, int *interrupted);

/* ---- progress.c: the live status line (guestkit run, status --watch) ---- */

struct rn_progress {
  size_t total, ok, failed, running;  /* failed: every end but ok */
  double rate;               /* finished tasks per minute; <= 0: unknown */
  char slowest[256];         /* the task running longest ("" if none) */
  double slowest_secs;
};
/* The line, cut to cols - 1 characters. */
void rn_progress_format (char *buf, size_t size, const struct rn_progress *p, int cols);
/* A task's short name: the image's file name [instance]. */
void rn_progress_task_name (char *buf, size_t size, const char *image, const char *instance);
int rn_term_cols (int fd);   /* 80 if not known */
struct rn_live {
  FILE *f;
  int shown;                 /* the line is on the screen */
  double last;               /* when it was drawn */
  char text[512];
};
/* Draw text in place (skipped if unchanged, or < 0.25 s since the last
 * draw unless force); clear it before printing other lines. */
void rn_live_draw (struct rn_live *l, const char *text, int force);
void rn_live_clear (struct rn_live *l);

/* ---- status.c: guestkit status, and status --watch ---- */
int rn_cmd_status_main (int argc, char **argv);

#endif /* RN_POOL_H */
