# tests/: the test suite.  Test programs print PASS/FAIL/SKIP lines;
# tests/run-tests.sh runs them and prints "N passed, N failed".
#   make quick   no VM, seconds
#   make check   everything, against real appliances

TEST_CFLAGS := -Icore/include -Ischemas -Itests $(TIRPC_CFLAGS)
TEST_HARNESS := tests/harness.o

QUICK_C := tests/quick-handle tests/quick-wire tests/quick-vercmp tests/quick-regex-cache tests/quick-qcow2
QUICK_TESTS := $(addprefix tests/bin/,$(notdir $(QUICK_C))) tests/quick-build.sh tests/quick-guestd.sh tests/quick-contract.py
VM_C := $(patsubst %.c,%,$(wildcard tests/calls-*.c tests/launch-*.c))
VM_TESTS := $(addprefix tests/bin/,$(notdir $(VM_C))) $(wildcard tests/launch-*.sh)
# the packages step's reading of the guest's dpkg status (dpkg_packages)
VM_TESTS += tests/runner-steps-packages.sh
TEST_TOOLS := tests/bin/make-sample-image tests/bin/manual-example tests/bin/cache-loop

tests/%.o: tests/%.c
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -c $< -o $@

tests/bin/%: tests/%.o $(TEST_HARNESS) $(LIBGUESTKIT_SO) core/libguestkit.so
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HARNESS) $(GK_LIBS)

# quick-wire tests the codec itself: link its objects directly.
tests/bin/quick-wire: tests/quick-wire.o $(TEST_HARNESS) $(SCHEMA_OBJS) $(LIBGUESTKIT_SO)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HARNESS) $(SCHEMA_OBJS) $(GK_LIBS)

# The inspection tests build their fixtures (hives, rpm databases) on the
# host with libhivex and libsqlite3.
tests/bin/calls-inspect: GK_LIBS += -lsqlite3
tests/bin/calls-inspect-windows: GK_LIBS += -lhivex
# quick-vercmp tests runner/vercmp.c alone (it allocates nothing, calls
# nothing else of the runner).
tests/quick-vercmp.o: TEST_CFLAGS += -Irunner
tests/quick-vercmp.o: runner/calls-gen.h
tests/bin/quick-vercmp: tests/quick-vercmp.o runner/vercmp.o $(TEST_HARNESS) $(LIBGUESTKIT_SO)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $< runner/vercmp.o $(TEST_HARNESS) $(GK_LIBS)
# quick-regex-cache tests guestd/regex-cache.c alone, linked into the
# test program the way guestd links it (its two symbols exported).
tests/quick-regex-cache.o: TEST_CFLAGS += -Iguestd
tests/bin/quick-regex-cache: tests/quick-regex-cache.o guestd/regex-cache.o $(TEST_HARNESS) $(LIBGUESTKIT_SO)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) $(GUESTD_EXPORTS) -o $@ $< guestd/regex-cache.o $(TEST_HARNESS) $(GK_LIBS)

# quick-qcow2 also calls the library's internal chain readers (gk.h):
# link the static library.
tests/quick-qcow2.o: TEST_CFLAGS += -Icore
tests/bin/quick-qcow2: tests/quick-qcow2.o $(TEST_HARNESS) $(LIBGUESTKIT_A)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HARNESS) $(LIBGUESTKIT_A) $(TIRPC_LIBS)

quick: all $(QUICK_TESTS) $(GUESTD_TEST)
	@tests/run-tests.sh $(QUICK_TESTS)

check: deps
	$(MAKE) all
	@echo "check: the Debian base for the build tests (made once, then cached):"
	@runner/build-base.sh || echo "check: no Debian base: the build tests will say why they skip"
	$(MAKE) $(QUICK_TESTS) $(VM_TESTS) $(TEST_TOOLS) $(GUESTD_TEST)
	@tests/run-tests.sh -j 2 $(QUICK_TESTS) $(VM_TESTS)

all: $(TEST_TOOLS)

CLEAN_FILES += tests/*.o tests/bin/*

bench: all tests/bin/bench tests/bin/bench-density
	@tests/bench.sh
	@tests/bench-build.sh
	@tests/bench-audit.sh
	@tests/bench-mount.sh
	@tests/bench-density.sh

# guestd mounting by mount(2) or mount(8) (guestd/mount.c).
VM_TESTS += tests/calls-mount.sh
# checksum "sha256" hashed in guestd, no sha256sum (guestd/sha256.c).
VM_TESTS += tests/calls-checksum.sh
# Owners by name through lookup_ids, no Augeas (runner/steps-config.c).
VM_TESTS += tests/runner-steps-ids.sh

# guestkit mount (FUSE); tests/mount-fixture.sh is their shared set-up.
VM_TESTS += tests/mount-browse.sh tests/mount-write.sh tests/mount-qemu-dies.sh \
  tests/mount-concurrent.sh tests/mount-safety.sh

# ---- hardening (issue 7): fault injection, threads, hostile images,
# sanitizers, valgrind, fuzzing.  See SECURITY.md and tests/fuzz/. ----
HARDENING_C := $(patsubst %.c,%,$(wildcard tests/hardening-*.c))
VM_TESTS += $(addprefix tests/bin/,$(notdir $(HARDENING_C))) \
  $(wildcard tests/hardening-*.sh)

# Everything but guestd is rebuilt when the build flags change (SANITIZE).
$(CORE_OBJS) $(patsubst %.c,%.o,$(wildcard runner/*.c tests/*.c)) \
  guestd/test/client.o: $(BUILD_FLAGS_STAMP)
include tests/fuzz/fuzz.mk

# Options for the tests' processes in sanitizer runs.  A report fails the
# test that made it (non-zero exit) and is also kept in
# tests/out/logs/{asan,ubsan,tsan}.PID, since scripts often discard the
# output of the programs they run.
SAN_LOG := $(abspath tests/out/logs)
ifneq ($(findstring address,$(SANITIZE)),)
# tests/launch-example.sh builds a program without the sanitizer and runs
# it against the instrumented library: the runtime then loads late.
export ASAN_OPTIONS := verify_asan_link_order=0:log_path=$(SAN_LOG)/asan:$(ASAN_OPTIONS)
endif
ifneq ($(findstring undefined,$(SANITIZE)),)
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1:log_path=$(SAN_LOG)/ubsan:$(UBSAN_OPTIONS)
endif
ifneq ($(findstring thread,$(SANITIZE)),)
export TSAN_OPTIONS := suppressions=$(abspath tests/tsan.supp):log_path=$(SAN_LOG)/tsan:$(TSAN_OPTIONS)
endif

# make check-valgrind: the library side under valgrind (memcheck), every
# leak kind but "still reachable" and every error fatal.  The appliance's
# qemu is not traced (no --trace-children).  Logs: tests/out/logs/valgrind-*.
# Lines "--PID-- WARNING: unhandled amd64-linux syscall" are valgrind's
# own notes, not errors: 3.19 does not know landlock_* (confine.c's probe)
# or pidfd_* (child.c), which then fail with ENOSYS and take their
# fallbacks.  Any other line in the log (an "==PID==" error) fails.
VALGRIND ?= valgrind
VALGRIND_FLAGS := -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
  --num-callers=40 --child-silent-after-fork=yes --suppressions=tests/valgrind.supp
VALGRIND_TESTS := tests/bin/quick-handle tests/bin/quick-wire tests/bin/calls-basic \
  tests/bin/hardening-faults $(FUZZ_REPLAY)

check-valgrind: all $(VALGRIND_TESTS)
	@mkdir -p tests/out/logs; p=0; f=0; \
	for t in $(VALGRIND_TESTS); do \
	  n=$$(basename $$t); log=tests/out/logs/valgrind-$$n; \
	  start=$$(date +%s); \
	  $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$$log.vg $$t >$$log.out 2>&1; rc=$$?; \
	  secs=$$(( $$(date +%s) - start )); \
	  if [ $$rc = 0 ] && ! grep -qv '^--[0-9]*-- ' $$log.vg && ! grep -q '^FAIL' $$log.out; then \
	    echo "PASS: valgrind-$$n ($$(grep -c '^PASS' $$log.out) checks, $${secs}s)"; p=$$((p + 1)); \
	  else \
	    echo "FAIL: valgrind-$$n: exit $$rc, see $$log.vg and $$log.out"; f=$$((f + 1)); \
	  fi; \
	done; echo "$$p passed, $$f failed"; [ $$f = 0 ]

.PHONY: check-valgrind
