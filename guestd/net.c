/* guestd/net.c: the appliance's network, when the library asked for one
 * (set_network: guestkit.network=1 on the kernel command line).
 *
 * qemu's user-mode stack answers on fixed addresses: the guest is
 * 10.0.2.15/24, the gateway 10.0.2.2 and the DNS forwarder 10.0.2.3.
 * The interface is set up statically with ioctls (the appliance has no
 * `ip' and no DHCP client), once at boot, so a template saved with it
 * is restored with the network already up.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guestd.h"

static void
set_addr (struct sockaddr *sa, const char *dotted)
{
  struct sockaddr_in *in = (struct sockaddr_in *) sa;

  memset (in, 0, sizeof *in);
  in->sin_family = AF_INET;
  inet_pton (AF_INET, dotted, &in->sin_addr);
}

static int
if_up (int s, const char *name)
{
  struct ifreq r;

  memset (&r, 0, sizeof r);
  snprintf (r.ifr_name, sizeof r.ifr_name, "%s", name);
  if (ioctl (s, SIOCGIFFLAGS, &r) == -1)
    return -1;
  r.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ioctl (s, SIOCSIFFLAGS, &r);
}

/* The first interface that is not the loopback, in *name. */
static int
find_nic (char *name, size_t len)
{
  DIR *d;
  struct dirent *e;

  /* The NIC's driver may bind a little after the module loads. */
  for (int tries = 0; tries < 100; tries++) {
    if ((d = opendir ("/sys/class/net")) != NULL) {
      while ((e = readdir (d)) != NULL)
        if (e->d_name[0] != '.' && strcmp (e->d_name, "lo") != 0 &&
            strlen (e->d_name) < len) {
          memcpy (name, e->d_name, strlen (e->d_name) + 1);
          closedir (d);
          return 0;
        }
      closedir (d);
    }
    usleep (10000);
  }
  return -1;
}

void
gd_net_up (void)
{
  char nic[IFNAMSIZ];
  struct ifreq r;
  struct rtentry rt;
  int s;

  gd_load_module ("virtio_net");
  if ((s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
    gd_warn ("network: socket: %m");
    return;
  }
  if (if_up (s, "lo") == -1)
    gd_warn ("network: lo up: %m");
  if (find_nic (nic, sizeof nic) == -1) {
    gd_warn ("network: no network interface appeared");
    close (s);
    return;
  }
  memset (&r, 0, sizeof r);
  snprintf (r.ifr_name, sizeof r.ifr_name, "%s", nic);
  set_addr (&r.ifr_addr, "10.0.2.15");
  if (ioctl (s, SIOCSIFADDR, &r) == -1)
    gd_warn ("network: %s address: %m", nic);
  set_addr (&r.ifr_netmask, "255.255.255.0");
  if (ioctl (s, SIOCSIFNETMASK, &r) == -1)
    gd_warn ("network: %s netmask: %m", nic);
  if (if_up (s, nic) == -1)
    gd_warn ("network: %s up: %m", nic);
  memset (&rt, 0, sizeof rt);
  set_addr (&rt.rt_dst, "0.0.0.0");
  set_addr (&rt.rt_genmask, "0.0.0.0");
  set_addr (&rt.rt_gateway, "10.0.2.2");
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  if (ioctl (s, SIOCADDRT, &rt) == -1 && errno != EEXIST)
    gd_warn ("network: default route: %m");
  else
    gd_log ("network: %s is 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3", nic);
  close (s);
}
