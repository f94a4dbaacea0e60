# runner/: the `guestkit' command (run, report, status).  It uses the
# library only through core/include/guestfs.h, like any program.

# Every runner/*.c is part of the command (the generated ones included).
RUNNER_SRCS := $(sort $(wildcard runner/*.c) runner/calls-gen.c runner/results-sql-gen.c)
RUNNER_OBJS := $(RUNNER_SRCS:.c=.o)
RUNNER_GEN := runner/calls-gen.c runner/calls-gen.h runner/results-sql-gen.c
RUNNER_CFLAGS := -Icore/include -Irunner
RUNNER_LIBS := -lyaml -lsqlite3 -ledit $(shell pkg-config --libs fuse3)
# guestkit mount (runner/mount*.c) is built on libfuse3.
runner/mount.o runner/mount-ops.o: RUNNER_CFLAGS += $(shell pkg-config --cflags fuse3)
RUNNER_BIN := runner/guestkit

all: $(RUNNER_BIN)

# generate.py writes every output at once; after the schemas' own rule,
# so that two copies never run together under make -j.
$(RUNNER_GEN) &: schemas/actions.tsv schemas/structs.tsv schemas/results.sql \
    schemas/generate.py | $(SCHEMA_GEN)
	$(PYTHON) schemas/generate.py .

runner/%.o: runner/%.c
	$(CC) $(CFLAGS) $(RUNNER_CFLAGS) -c $< -o $@

$(RUNNER_OBJS): runner/calls-gen.h

$(RUNNER_BIN): $(RUNNER_OBJS) $(LIBGUESTKIT_SO) core/libguestkit.so
	$(CC) $(LDFLAGS) -o $@ $(RUNNER_OBJS) $(GK_LIBS) $(RUNNER_LIBS)

# Sample images for the jobs in jobs/ (make demo, tests): Debian-like ones
# with different host names, and one that is not a disk at all.
RUNNER_SAMPLES := jobs/samples/debian-1.img jobs/samples/debian-2.img \
  jobs/samples/debian-3.img jobs/samples/broken.img

jobs/samples/debian-%.img: | tests/bin/make-sample-image
	@mkdir -p jobs/samples
	tests/bin/make-sample-image $@ 32 debian-$*

jobs/samples/broken.img:
	@mkdir -p jobs/samples
	head -c 4194304 /dev/urandom > $@.tmp && mv $@.tmp $@

# The tree jobs/build.yaml unpacks into each image, packed reproducibly.
RUNNER_SKEL := $(shell find jobs/files/skel -type f 2>/dev/null)
jobs/samples/skel.tar: $(RUNNER_SKEL)
	@mkdir -p jobs/samples/build
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	  -C jobs/files/skel -cf $@.tmp . && mv $@.tmp $@

all: jobs/samples/skel.tar

samples: $(RUNNER_SAMPLES) jobs/samples/skel.tar

QUICK_TESTS += tests/runner-validate.sh
VM_TESTS += tests/runner-jobs.sh tests/runner-resume.sh tests/runner-concurrent.sh
# Prepare ahead (issue 17); needs /work/notes/prepare-exec.diff in runner/exec.c.
VM_TESTS += tests/runner-prepare.sh
# Watching a run, and the worker count (issue 17)
VM_TESTS += tests/runner-progress.sh tests/runner-workers.sh

CLEAN_FILES += $(RUNNER_OBJS) $(RUNNER_BIN)
.PHONY: samples

# guestkit shell and guestkit inspect
QUICK_TESTS += tests/shell-errors.sh
VM_TESTS += tests/shell-basic.sh tests/shell-tty.sh tests/inspect-cli.sh
QUICK_TESTS += tests/cache-rule.sh
VM_TESTS += tests/runner-faults.sh tests/runner-steps-system.sh tests/runner-steps-atomic.sh tests/runner-steps-files.sh tests/runner-steps-patch.sh tests/runner-steps-network.sh

# The high-level steps section of schemas/job-schema.md, from the step
# table (tests/runner-steps-doc.sh checks that it is current).
steps-doc: $(RUNNER_BIN)
	$(PYTHON) tests/steps-doc.py schemas/job-schema.md $(RUNNER_BIN) --write
.PHONY: steps-doc
QUICK_TESTS += tests/runner-steps-doc.sh

# Templated builds (issue 10): boot-verified images from the Debian base
# (make base); the tests skip, saying why, when there is no base.
VM_TESTS += $(wildcard tests/build-*.sh)
# Fleet audits (report --packages/--findings/--diff/--baseline/html):
# the report views need no VM; the browser test is slow, so not quick.
QUICK_TESTS += tests/audit-report.sh
VM_TESTS += tests/audit-html.sh tests/audit-checks.sh

# Scale-out (issue 13): shards, merge, Slurm and Kubernetes
QUICK_TESTS += tests/runner-merge.sh
VM_TESTS += tests/runner-shard.sh tests/runner-slurm.sh

# make bench: the merge of 100 shards and the sharding overhead through Slurm
bench-shard: all
	@tests/bench-shard.sh
bench: bench-shard
.PHONY: bench-shard

# The local package jobs/patch.yaml installs.
RUNNER_FLEET_DEB := $(shell find jobs/files/fleet-deb -type f 2>/dev/null)
jobs/samples/guestkit-fleet.deb: $(RUNNER_FLEET_DEB)
	@mkdir -p jobs/samples
	SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group -b jobs/files/fleet-deb $@.tmp >/dev/null && mv $@.tmp $@
samples: jobs/samples/guestkit-fleet.deb

# make bench: the patch task (tests/bench-patch.sh), beside tests/bench.sh.
bench: bench-patch
bench-patch: all
	@tests/bench-patch.sh
.PHONY: bench-patch

# guestkit test-tool (issue 14)
VM_TESTS += tests/test-tool.sh
