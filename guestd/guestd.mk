# guestd/: the daemon that runs as /init inside the appliance.
# Linked dynamically against libc, libtirpc, libaugeas, libhivex and
# libsqlite3 (the appliance has them all: appliance/packages; the last two
# decode registry hives and rpm databases for inspection, inside the
# appliance); libselinux is loaded at run time.

GUESTD_BIN  := guestd/guestd
# Every guestd/*.c is part of the daemon (one file per area).
GUESTD_SRCS := $(sort $(wildcard guestd/*.c) guestd/dispatch-gen.c)
GUESTD_OBJS := $(GUESTD_SRCS:.c=.o)
AUGEAS_CFLAGS := $(shell pkg-config --cflags augeas 2>/dev/null || echo -I/usr/include/libxml2)
AUGEAS_LIBS   := $(shell pkg-config --libs augeas 2>/dev/null || echo -laugeas)
GUESTD_LIBS   := -lhivex -lsqlite3
GUESTD_CFLAGS := -Ischemas -Icore/include -Iguestd $(TIRPC_CFLAGS) $(AUGEAS_CFLAGS)
# No sanitizer in the appliance (see SANITIZE in the top Makefile): guestd
# is built without it, with its own copies of the schema objects.
GUESTD_CC_FLAGS = $(filter-out -fsanitize=%,$(CFLAGS))
GUESTD_LDFLAGS = $(filter-out -fsanitize=%,$(LDFLAGS))
GUESTD_SCHEMA_OBJS := guestd/wire-gd.o guestd/actions-gen-gd.o

all: $(GUESTD_BIN)

guestd/%.o: guestd/%.c
	$(CC) $(GUESTD_CC_FLAGS) $(GUESTD_CFLAGS) -c $< -o $@

guestd/%-gd.o: schemas/%.c
	$(CC) $(GUESTD_CC_FLAGS) $(SCHEMA_CFLAGS) -c $< -o $@

# regex-cache.c's re_compile_pattern and regfree must be in the dynamic
# symbol table for libaugeas's calls to bind to them.
GUESTD_EXPORTS := -Wl,--export-dynamic-symbol=re_compile_pattern \
  -Wl,--export-dynamic-symbol=regfree

$(GUESTD_BIN): $(GUESTD_OBJS) $(GUESTD_SCHEMA_OBJS)
	$(CC) $(GUESTD_LDFLAGS) $(GUESTD_EXPORTS) -o $@ $^ $(TIRPC_LIBS) $(AUGEAS_LIBS) $(GUESTD_LIBS)

CLEAN_FILES += $(GUESTD_BIN) $(GUESTD_OBJS) $(GUESTD_SCHEMA_OBJS)

# A protocol-level test of guestd with no VM: guestd/test/client starts
# guestd on a socketpair with a temp dir as sysroot (file calls, errors,
# transfers, cancels, garbage).  guestd/test/appliance-run.sh runs the
# same client against a booted appliance for the device calls.
GUESTD_TEST := guestd/test/client

$(GUESTD_TEST): guestd/test/client.o $(SCHEMA_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC_LIBS)

check-guestd: $(GUESTD_BIN) $(GUESTD_TEST)
	$(GUESTD_TEST) $(GUESTD_BIN)

.PHONY: check-guestd
CLEAN_FILES += $(GUESTD_TEST) guestd/test/client.o
