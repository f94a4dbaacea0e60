# core/: the library libguestkit (.so and .a).

CORE_SRCS := core/errors.c core/handle.c core/state.c core/drives.c core/qcow2.c \
  core/disk-create.c \
  core/console.c core/child.c core/rpc.c core/appliance.c core/cache.c core/accel.c \
  core/launch.c core/confine.c core/qmp.c core/snapshot.c core/actions-gen.c \
  core/inspect.c core/inspect-fs.c core/inspect-linux.c \
  core/inspect-windows.c core/inspect-apps.c core/inspect-rpm.c \
  core/fault.c
CORE_OBJS := $(CORE_SRCS:.c=.o) $(SCHEMA_OBJS)
# Nothing beyond libc and libtirpc: the registry hives and rpm databases
# that inspection needs are decoded by guestd in the appliance.
CORE_LIBS :=
CORE_CFLAGS := -fPIC -Icore -Icore/include -Ischemas $(TIRPC_CFLAGS) \
  -DGK_DEFAULT_PATH='"$(abspath appliance)"'
LIBGUESTKIT_SO := core/libguestkit.so.0
LIBGUESTKIT_A := core/libguestkit.a

all: $(LIBGUESTKIT_SO) core/libguestkit.so $(LIBGUESTKIT_A)

core/%.o: core/%.c
	$(CC) $(CFLAGS) $(CORE_CFLAGS) -c $< -o $@

$(LIBGUESTKIT_SO): $(CORE_OBJS) core/libguestkit.syms
	$(CC) -shared -Wl,-soname,libguestkit.so.0 \
	  -Wl,--version-script=core/libguestkit.syms $(LDFLAGS) \
	  -o $@ $(CORE_OBJS) $(TIRPC_LIBS) $(CORE_LIBS)

core/libguestkit.so: $(LIBGUESTKIT_SO)
	ln -sf libguestkit.so.0 $@

$(LIBGUESTKIT_A): $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $(CORE_OBJS)

# Link flags for a program using the library from the build tree.
GK_LIBS := -Lcore -lguestkit $(TIRPC_LIBS) $(CORE_LIBS) -Wl,-rpath,$(abspath core)

CLEAN_FILES += $(CORE_OBJS) $(LIBGUESTKIT_SO) core/libguestkit.so $(LIBGUESTKIT_A)
