/* core/fault.c: fault injection for the hardening tests.  Off unless the
 * environment variable GUESTKIT_FAULT is set; then it makes chosen
 * allocations, channel reads or channel writes fail, or kills qemu, so
 * that tests can prove every such failure ends cleanly.
 *
 *   GUESTKIT_FAULT=SPEC[,SPEC...]
 *
 *   alloc:N            the Nth gk_malloc / gk_calloc / gk_realloc /
 *                      gk_strdup / gk_asprintf fails as if memory ran out
 *   rpc-read:N:MODE    the Nth read from the channel (gk_read_full) fails
 *   rpc-write:N:MODE   the Nth write to the channel (gk_write_full) fails
 *   kill-qemu:N        qemu gets SIGKILL just before the Nth channel read
 *
 *   MODE  short    only part of the bytes move, then end of file
 *         garbage  all the bytes move, but what the library sees (read)
 *                  or what guestd receives (write) is scrambled
 *         close    the channel is shut down, then end of file
 *
 * Counters count from 1, per process, across all handles.  They restart
 * whenever the value of GUESTKIT_FAULT changes, so a test can arm a fault
 * right before the call it wants to break (setenv), and each SPEC fires
 * once.  A SPEC that does not parse is ignored.  Nothing here runs when
 * the variable is unset except one getenv per hook.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gk.h"

#define MAX_SPECS 8

enum site { SITE_ALLOC, SITE_READ, SITE_WRITE, NSITES };

struct spec {
  enum site site;
  unsigned long n;             /* fire at this count of `site' */
  enum gk_fault fault;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *armed;            /* the GUESTKIT_FAULT value parsed, or NULL */
static struct spec specs[MAX_SPECS];
static size_t nspecs;
static unsigned long counts[NSITES];

static int
parse_one (char *s, struct spec *sp)
{
  char *mode, *end;

  if (strncmp (s, "alloc:", 6) == 0) {
    sp->site = SITE_ALLOC; sp->fault = GK_FAULT_FAIL; s += 6;
  } else if (strncmp (s, "kill-qemu:", 10) == 0) {
    sp->site = SITE_READ; sp->fault = GK_FAULT_KILL; s += 10;
  } else if (strncmp (s, "rpc-read:", 9) == 0) {
    sp->site = SITE_READ; s += 9;
  } else if (strncmp (s, "rpc-write:", 10) == 0) {
    sp->site = SITE_WRITE; s += 10;
  } else
    return -1;
  sp->n = strtoul (s, &end, 10);
  if (end == s || sp->n == 0)
    return -1;
  if (sp->fault == GK_FAULT_FAIL || sp->fault == GK_FAULT_KILL)
    return *end == '\0' ? 0 : -1;
  if (*end != ':')
    return -1;
  mode = end + 1;
  if (strcmp (mode, "short") == 0) sp->fault = GK_FAULT_SHORT;
  else if (strcmp (mode, "garbage") == 0) sp->fault = GK_FAULT_GARBAGE;
  else if (strcmp (mode, "close") == 0) sp->fault = GK_FAULT_CLOSE;
  else return -1;
  return 0;
}

/* (Re)arm from `env' (NULL: disarm).  Called with the lock held. */
static void
arm (const char *env)
{
  char *copy, *save = NULL;

  free (armed);
  __atomic_store_n (&armed, NULL, __ATOMIC_RELEASE);
  nspecs = 0;
  memset (counts, 0, sizeof counts);
  if (env == NULL || (copy = strdup (env)) == NULL)
    return;
  __atomic_store_n (&armed, strdup (env), __ATOMIC_RELEASE);
  for (char *t = strtok_r (copy, ",", &save); t && nspecs < MAX_SPECS;
       t = strtok_r (NULL, ",", &save)) {
    specs[nspecs].fault = GK_FAULT_NONE;
    if (parse_one (t, &specs[nspecs]) == 0)
      nspecs++;
  }
  free (copy);
}

/* Count one event at `site'; the fault to inject there, if any. */
static enum gk_fault
hit (enum site site)
{
  const char *env = getenv ("GUESTKIT_FAULT");
  enum gk_fault f = GK_FAULT_NONE;

  /* The common case, no fault armed: no lock taken. */
  if (env == NULL && __atomic_load_n (&armed, __ATOMIC_ACQUIRE) == NULL)
    return GK_FAULT_NONE;
  pthread_mutex_lock (&lock);
  if (env == NULL || armed == NULL || strcmp (env, armed) != 0)
    arm (env);
  counts[site]++;
  for (size_t i = 0; i < nspecs; i++)
    if (specs[i].site == site && specs[i].n == counts[site])
      f = specs[i].fault;
  pthread_mutex_unlock (&lock);
  return f;
}

int
gk_fault_alloc (void)
{
  return hit (SITE_ALLOC) == GK_FAULT_FAIL;
}

enum gk_fault
gk_fault_io (guestfs_h *g, int writing)
{
  enum gk_fault f = hit (writing ? SITE_WRITE : SITE_READ);

  if (f == GK_FAULT_NONE)
    return f;
  gk_debug (g, "fault injected: %s", f == GK_FAULT_KILL ? "kill-qemu" :
            f == GK_FAULT_SHORT ? "short channel I/O" :
            f == GK_FAULT_GARBAGE ? "garbage on the channel" : "channel closed");
  if (f == GK_FAULT_KILL) {
    if (g->pid > 0)
      kill (g->pid, SIGKILL);
    return GK_FAULT_NONE;       /* the read then sees the end */
  }
  if (f == GK_FAULT_CLOSE)
    shutdown (g->sock, SHUT_RDWR);
  return f;
}

void
gk_fault_scramble (void *buf, size_t n)
{
  for (size_t i = 0; i < n; i++)
    ((unsigned char *) buf)[i] ^= 0xa5;
}
