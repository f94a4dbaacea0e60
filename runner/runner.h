/* runner/runner.h: the internals of the `guestkit' command, shared by the
 * files of runner/ (one header per area).  Nothing here is public: the
 * runner uses the library only through guestfs.h, like any program.
 *
 * Flow: yaml.c parses a job file into a node tree (with line:column);
 * job.c validates it into a struct rn_job, collecting every error; the
 * tasks it expands to go to pool.c, whose worker threads run each one
 * with exec.c (one handle, one fresh appliance per task) and record it
 * through db.c; report.c reads the database back.
 *
 * The declarations live in one header per area, each with one section
 * per file, included here in order (a later one uses the earlier ones):
 *
 *   rn-util.h    util.c, errors.c, yaml.c, template.c, main.c
 *   rn-job.h     job.c, job-steps.c, job-checks.c, job-args.c, task.c
 *   rn-db.h      db.c, db-inventory.c, checks.c, db-changes.c, json.c
 *   rn-steps.h   calls.c, steps*.c, exec.c, exec-commit.c
 *   rn-pool.h    pool.c, progress.c, status.c
 *   rn-report.h  vercmp.c, report.c, report-fleet.c, report-html.c
 *   rn-shell.h   shell*.c, cache-cli.c, drive-opts.c, inspect-cli.c
 *   rn-mount.h   mount.c, mount-ops.c, mount-cache.c
 *   rn-build.h   build.c, build-job.c, boot-test.c
 *   rn-shard.h   shard.c, merge*.c, slurm.c, k8s.c, test-tool.c, run-*.c
 *
 * A file of runner/ includes runner.h; one may include only the headers
 * it needs instead.
 */
#ifndef RN_RUNNER_H
#define RN_RUNNER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "guestfs.h"
#include "calls-gen.h"

#include "rn-util.h"
#include "rn-job.h"
#include "rn-db.h"
#include "rn-steps.h"
#include "rn-pool.h"
#include "rn-report.h"
#include "rn-shell.h"
#include "rn-mount.h"
#include "rn-build.h"
#include "rn-shard.h"

#endif /* RN_RUNNER_H */
