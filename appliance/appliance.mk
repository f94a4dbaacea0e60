# appliance/: building the appliance and timing its boot.
#
#   make                  appliance/supermin.d for the current guestd: the
#                         library finds it on its search path and builds
#                         kernel/initrd/root from it into its per-user
#                         cache (guestkit-build-appliance, under a lock)
#   make appliance        also build kernel/initrd/root into $(APPLIANCE_OUT)
#   make appliance-bench  boot an appliance whose /init is hello-init and
#                         time qemu start -> launch word

APPLIANCE_OUT ?= appliance/build
HELLO_INIT    := appliance/test/hello-init

all: $(HELLO_INIT) appliance/supermin.d/.built

# .built is hidden, so supermin skips it when building.
appliance/supermin.d/.built: $(GUESTD_BIN) appliance/packages appliance/guestkit-make-supermin-d
	appliance/guestkit-make-supermin-d $(GUESTD_BIN) appliance/supermin.d
	touch $@

$(HELLO_INIT): appliance/test/hello-init.c
	$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS)

.PHONY: appliance appliance-bench

appliance: $(GUESTD_BIN)
	appliance/guestkit-make-supermin-d $(GUESTD_BIN) $(APPLIANCE_OUT)/supermin.d
	appliance/guestkit-build-appliance $(APPLIANCE_OUT)/supermin.d $(APPLIANCE_OUT)/appliance

BENCH_APPEND := console=ttyS0 root=/dev/vda panic=-1 quiet loglevel=0 \
  cryptomgr.notests nolapic_timer lsm=capability no_timer_check \
  tsc=reliable noreplace-smp 8250.nr_uarts=1 rcupdate.rcu_expedited=1 \
  mitigations=off

appliance-bench: $(HELLO_INIT)
	appliance/guestkit-make-supermin-d $(HELLO_INIT) $(APPLIANCE_OUT)/hello.d
	appliance/guestkit-build-appliance $(APPLIANCE_OUT)/hello.d $(APPLIANCE_OUT)/hello
	truncate -s 100M $(APPLIANCE_OUT)/disk0.img
	$(PYTHON) appliance/test/boot-bench.py -n 5 --disk $(APPLIANCE_OUT)/disk0.img \
	  $(APPLIANCE_OUT)/hello -- qemu-system-x86_64 \
	  -machine q35,accel=tcg,sata=off,smbus=off,usb=off,vmport=off,graphics=off,smm=off,i8042=off \
	  -cpu qemu64 -m 256 -nodefaults -no-user-config -display none -no-reboot \
	  -kernel {kernel} -initrd {initrd} -append "$(BENCH_APPEND)" -serial stdio \
	  -drive file={root},format=raw,if=none,id=appliance,snapshot=on \
	  -device virtio-blk-pci,drive=appliance {disks} \
	  -chardev socket,id=channel0,path={sock} -device virtio-serial-pci \
	  -device virtserialport,chardev=channel0,name=org.guestkit.channel.0 \
	  -device virtio-rng-pci

CLEAN_FILES += $(HELLO_INIT)
# (make clean leaves appliance/supermin.d and $(APPLIANCE_OUT); remove by hand)
