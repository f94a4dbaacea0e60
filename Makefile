# guestkit: plain GNU make, no autotools.
#
#   make            build the library, guestd, the appliance and the tools
#   make deps       install missing Debian packages (as root), else print
#                   the apt-get line
#   make quick      fast tests, no VM (seconds)
#   make check      everything, against real appliances
#   make base       the Debian 12 base tree for build jobs (mmdebstrap,
#                   cached under /var/tmp/guestkit-base)
#   make demo       build, make a sample image, run the manual's example
#   make bench      speed and memory figures (and libguestfs's, if present)
#   make generate   regenerate code and docs from schemas/*.tsv
#
# Each folder adds its targets in its own fragment (core/core.mk, ...).

CC       ?= cc
CXX      ?= c++
OPT      ?= -O2
WARN     := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   ?= $(OPT) -g
CFLAGS   += -D_GNU_SOURCE -std=gnu11 $(WARN) -MMD -MP -pthread
LDFLAGS  += -pthread

TIRPC_CFLAGS := $(shell pkg-config --cflags libtirpc 2>/dev/null || echo -I/usr/include/tirpc)
TIRPC_LIBS   := $(shell pkg-config --libs libtirpc 2>/dev/null || echo -ltirpc)

# make SANITIZE=address,undefined check / make SANITIZE=thread check:
# the library, the runner and the tests get the sanitizer; guestd never
# does (it runs in the appliance, which has no sanitizer runtime: guestd.mk
# filters the flags out and links its own copies of the schema objects).
# Objects record the flags they were built with (tests/out/build-flags),
# so switching SANITIZE on or off rebuilds them; no `make clean' needed.
ifdef SANITIZE
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif
BUILD_FLAGS_STAMP := tests/out/build-flags
BUILD_FLAGS := $(CC) $(CFLAGS) $(LDFLAGS)
$(shell mkdir -p tests/out; echo '$(BUILD_FLAGS)' | cmp -s - $(BUILD_FLAGS_STAMP) || \
  echo '$(BUILD_FLAGS)' > $(BUILD_FLAGS_STAMP))

PYTHON   ?= python3

# Debian packages needed to build, test and run.  One list, used by
# `make deps' and checked by tests.
DEB_PACKAGES := gcc g++ make pkg-config python3 libtirpc-dev \
  qemu-system-x86 qemu-utils supermin linux-image-amd64 \
  e2fsprogs lvm2 parted fdisk file kmod cpio xz-utils \
  libyaml-dev libsqlite3-dev sqlite3 libedit-dev tmux \
  libaugeas-dev libaugeas0 augeas-lenses scrub zerofree ntfs-3g attr \
  dosfstools xfsprogs btrfs-progs libselinux1 libhivex-dev db5.3-util \
  mmdebstrap chromium slurm-wlm munge python3-yaml man-db groff-base python3-dev \
  libfuse3-dev fuse3
# chromium is for the tests only: tests/audit-html.sh renders the HTML
# fleet report in it (headless).  Large, but the issue asks for a real browser.
# man-db and groff-base: tests/man-pages.sh renders every generated man
# page with `man -l' and groff, failing on any warning.
# libfuse3-dev and fuse3 are for `guestkit mount' (runner/mount*.c): it links
# libfuse3, and unmounting uses fusermount3.

all:

include schemas/schemas.mk
include core/core.mk
include guestd/guestd.mk
include appliance/appliance.mk
include tests/tests.mk
include python/python.mk
-include runner/runner.mk

.PHONY: all deps generate quick check demo bench clean base

# ---- base: the Debian 12 root tree build jobs unpack (runner/build-base.sh:
# mmdebstrap from the host's mirror, cached by its inputs; fails with a
# clear message when the mirror cannot be reached). ----
base:
	@runner/build-base.sh

# The appliance is built from host packages: they must be installed too.
APPLIANCE_PACKAGES := $(shell grep -v '^\#' appliance/packages 2>/dev/null)

deps:
	@missing=$$(for p in $(sort $(DEB_PACKAGES) $(APPLIANCE_PACKAGES)); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "deps: missing packages; as root run:"; \
	  echo "  apt-get install -y --no-install-recommends $$missing"; exit 1; \
	fi; \
	echo "deps: installing $$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends $$missing

clean:
	rm -f $(CLEAN_FILES)
	find core guestd schemas tests runner -name '*.o' -o -name '*.d' -type f | xargs rm -f

-include $(shell find core guestd schemas tests runner -name '*.d' -type f 2>/dev/null)

# ---- demo: the sample images, the manual's example, the three jobs ----
DEMO_IMAGE := jobs/samples/demo.img
DEMO_DB := jobs/samples/demo.db

$(DEMO_IMAGE): | tests/bin/make-sample-image
	@mkdir -p jobs/samples
	@echo "demo: making a sample image $@ (partitioned, ext4, a few files)"
	tests/bin/make-sample-image $@ 64 demo-host

demo: deps base
	$(MAKE) all
	$(MAKE) $(DEMO_IMAGE) samples
	@echo "demo: running the manual's example program on $(DEMO_IMAGE)"
	time tests/bin/manual-example $(DEMO_IMAGE)
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm jobs/samples/build/*.qcow2 jobs/samples/fleet.html
	@echo "demo: jobs/build.yaml: three Debian 12 machines from the base (make base),"
	@echo "      each booted to its own login prompt before it is put in jobs/samples/build"
	@mkdir -p jobs/samples/build
	runner/guestkit run --db $(DEMO_DB) jobs/build.yaml
	@echo "demo: the three builds (the builds view of the results database)"
	sqlite3 -header -column $(DEMO_DB) "SELECT instance, format, \
	  round(allocated / 1048576.0, 1) AS MiB, boot_seconds, boot_accel, \
	  substr(sha256, 1, 16) AS sha256, substr(rtrim(boot_console), -12) AS console_end \
	  FROM builds WHERE run_id = (SELECT max(run_id) FROM builds)"
	@echo "demo: jobs/patch.yaml on the three real images, all-or-nothing each"
	runner/guestkit run --db $(DEMO_DB) --images 'jobs/samples/build/*.qcow2' --format qcow2 jobs/patch.yaml
	runner/guestkit report --db $(DEMO_DB) --changes
	@echo "demo: jobs/audit.yaml on the real images and the samples (broken.img fails on purpose)"
	runner/guestkit run --db $(DEMO_DB) --images 'jobs/samples/build/*.qcow2' --format qcow2 jobs/audit.yaml; [ $$? -le 1 ]
	runner/guestkit run --db $(DEMO_DB) jobs/audit.yaml; [ $$? -le 1 ]
	runner/guestkit report --db $(DEMO_DB) --findings
	runner/guestkit report --db $(DEMO_DB) --format html -o jobs/samples/fleet.html
	@echo "demo: the fleet page is jobs/samples/fleet.html"
	@echo "demo: the report (more: runner/guestkit report --db $(DEMO_DB) --help)"
	runner/guestkit report --db $(DEMO_DB) --all
	runner/guestkit report --db $(DEMO_DB) --run 1 --facts
-include man/man.mk
-include core/install.mk
