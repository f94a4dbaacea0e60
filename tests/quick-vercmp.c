/* tests/quick-vercmp.c: runner/vercmp.c against tables of cases (no VM).
 *
 * The deb table holds the orderings dpkg documents (deb-version(7), the
 * Debian policy's `~~ < ~~a < ~ < (empty) < a' example, epochs and
 * revisions) and the rpm table those of rpm's own rpmvercmp test suite
 * (alphanumeric segments, leading zeros, separators, tilde, caret).
 * Every case is checked both ways round, so a comparison that always
 * returns the same answer fails.
 */
#include "harness.h"
#include "runner.h"

struct vcase {
  const char *a, *b;
  int want;                       /* sign of cmp (a, b) */
};

/* Full epoch:upstream-revision strings, compared with dpkg's rules. */
static const struct vcase deb_cases[] = {
  { "1.0", "1.0", 0 },
  { "1.0", "1.1", -1 },
  { "1.0~rc1", "1.0", -1 },          /* ~ sorts before the end */
  { "1.0~rc1", "1.0~rc2", -1 },
  { "1.0~~", "1.0~", -1 },
  { "1.0~~a", "1.0~", -1 },
  { "1.0~~", "1.0~~a", -1 },
  { "1.0~", "1.0", -1 },
  { "1.0", "1.0a", -1 },
  { "1.0a", "1.0b", -1 },
  { "1.0a", "1.0+", -1 },            /* letters before other characters */
  { "1.0+b1", "1.0", 1 },
  { "1.0", "1.0.1", -1 },
  { "1.10", "1.9", 1 },              /* digit runs are numbers */
  { "1.010", "1.10", 0 },
  { "1:0.1", "2.0", 1 },             /* the epoch first */
  { "0:1.0", "1.0", 0 },
  { "2:1.0", "10:0.1", -1 },
  { "1.0-1", "1.0-2", -1 },          /* then the revision */
  { "1.0-1", "1.0.1-1", -1 },
  { "1.0", "1.0-0", 0 },             /* no revision = revision 0 */
  { "1.2-3~1", "1.2-3", -1 },
  { "1.2~1-3", "1.2-3", -1 },
  { "1.0-a", "1.0-1", 1 },
  { "9.2p1-2+deb12u5", "9.2p1-2+deb12u3", 1 },
  { "1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u5", -1 },
  { "1:9.2p1-2+deb12u5", "1:9.2p1-2+deb12u5", 0 },
  { "2.36-9+deb12u4", "2.36-9+deb12u10", -1 },
  { "1.2.3-1-2", "1.2.3-1-1", 1 },   /* the revision follows the last '-' */
};

/* rpmvercmp on one version part (no epoch, no release). */
static const struct vcase rpm_cases[] = {
  { "1.0", "1.0", 0 }, { "1.0", "2.0", -1 }, { "2.0.1", "2.0", 1 },
  { "2.0.1a", "2.0.1", 1 }, { "5.5p1", "5.5p2", -1 }, { "5.5p10", "5.5p1", 1 },
  { "10xyz", "10.1xyz", -1 }, { "xyz10", "xyz10.1", -1 }, { "xyz.4", "xyz.4", 0 },
  { "xyz.4", "8", -1 }, { "8", "xyz.4", 1 }, { "xyz.4", "2", -1 },
  { "5.5p2", "5.6p1", -1 }, { "5.6p1", "6.5p1", -1 }, { "6.0.rc1", "6.0", 1 },
  { "10b2", "10a1", 1 }, { "10a2", "10b2", -1 }, { "1.0a", "1.0aa", -1 },
  { "10.0001", "10.1", 0 }, { "10.0001", "10.0039", -1 }, { "4.999.9", "5.0", -1 },
  { "20101121", "20101122", -1 }, { "2_0", "2.0", 0 }, { "a+", "a_", 0 },
  { "+a", "_a", 0 }, { "_+", "_", 0 }, { "+", "_", 0 },
  { "1.0~rc1", "1.0", -1 }, { "1.0~rc1", "1.0~rc2", -1 },
  { "1.0~rc1~git123", "1.0~rc1", -1 },
  { "1.0^", "1.0", 1 }, { "1.0^git1", "1.0", 1 }, { "1.0^git1", "1.0^git2", -1 },
  { "1.0^git1", "1.01", -1 }, { "1.0^20160101", "1.0.1", -1 },
  { "1.0^20160102", "1.0^20160101^git1", 1 }, { "1.0~rc1^git1", "1.0~rc1", 1 },
  { "1.0^git1~pre", "1.0^git1", -1 },
};

static int
sign (int x)
{
  return (x > 0) - (x < 0);
}

static int
deb_full (const char *a, const char *b)
{
  char x[128], y[128];
  struct rn_evr ea, eb;

  snprintf (x, sizeof x, "%s", a);
  snprintf (y, sizeof y, "%s", b);
  if (rn_evr_parse (x, &ea) == -1 || rn_evr_parse (y, &eb) == -1)
    return 99;
  return rn_evr_cmp (RN_PKG_DEB, &ea, &eb);
}

static int
run_table (const struct vcase *v, size_t n, int (*cmp) (const char *, const char *),
           const char *what)
{
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    int ab = sign (cmp (v[i].a, v[i].b)), ba = sign (cmp (v[i].b, v[i].a));
    if (ab != v[i].want || ba != -v[i].want) {
      printf ("FAIL: %s: %s vs %s: got %d / %d, want %d\n", what, v[i].a, v[i].b,
              ab, ba, v[i].want);
      bad++;
    }
  }
  return bad;
}

static void
test_deb_table (void)
{
  CHECK (run_table (deb_cases, sizeof deb_cases / sizeof deb_cases[0], deb_full,
                    th_name) == 0, "see the lines above");
}

static void
test_rpm_table (void)
{
  CHECK (run_table (rpm_cases, sizeof rpm_cases / sizeof rpm_cases[0], rn_vercmp_rpm,
                    th_name) == 0, "see the lines above");
}

/* The Debian policy's own chain, in order: each sorts before the next. */
static void
test_deb_tilde_chain (void)
{
  static const char *const chain[] = { "~~", "~~a", "~", "", "a" };
  for (size_t i = 0; i + 1 < 5; i++)
    CHECK (rn_vercmp_deb (chain[i], chain[i + 1]) < 0 &&
           rn_vercmp_deb (chain[i + 1], chain[i]) > 0, "'%s' < '%s'", chain[i], chain[i + 1]);
}

static void
test_rpm_release (void)
{
  struct rn_evr a = { 0, "9.0p1", "13.el9" }, b = { 0, "9.0p1", "9.el9" },
                any = { 0, "9.0p1", NULL }, e1 = { 1, "1.0", "1" };
  CHECK (rn_evr_cmp (RN_PKG_RPM, &a, &b) > 0, "release 13 > 9");
  CHECK (rn_evr_cmp (RN_PKG_RPM, &a, &any) == 0, "no release matches any");
  CHECK (rn_evr_cmp (RN_PKG_RPM, &e1, &a) > 0, "epoch 1 beats epoch 0");
  CHECK (rn_evr_cmp (RN_PKG_DEB, &a, &any) > 0, "deb: no revision is revision 0");
}

static void
test_evr_parse (void)
{
  char s1[] = "1:9.2p1-2+deb12u5", s2[] = "2.0", s3[] = "x:1.0", s4[] = ":1",
       s5[] = "1.0-", s6[] = "1:2:3", s7[] = "1234567890:1";
  struct rn_evr e;
  CHECK (rn_evr_parse (s1, &e) == 0 && e.epoch == 1 && strcmp (e.version, "9.2p1") == 0 &&
         strcmp (e.release, "2+deb12u5") == 0, "split of %s", s1);
  CHECK (rn_evr_parse (s2, &e) == 0 && e.epoch == 0 && e.release == NULL, "plain 2.0");
  CHECK (rn_evr_parse (s3, &e) == -1, "a letter in the epoch");
  CHECK (rn_evr_parse (s4, &e) == -1, "an empty epoch");
  CHECK (rn_evr_parse (s5, &e) == -1, "an empty revision");
  CHECK (rn_evr_parse (s6, &e) == -1, "two colons");
  CHECK (rn_evr_parse (s7, &e) == -1, "an epoch too large");
}

static void
test_pkgquery (void)
{
  char q1[] = "openssh-server<1:9.2p1-2+deb12u5", q2[] = "bash", q3[] = "libc6>=2.36",
       q4[] = "<1.0", q5[] = "zlib=", q6[] = "a<=1<2", q7[] = "vim>9", q8[] = "x=>1";
  struct rn_pkgquery q;
  CHECK (rn_pkgquery_parse (q1, &q) == 0 && strcmp (q.name, "openssh-server") == 0 &&
         q.op == RN_OP_LT && q.evr.epoch == 1 && strcmp (q.evr.version, "9.2p1") == 0 &&
         strcmp (q.text, "1:9.2p1-2+deb12u5") == 0, "name<version");
  CHECK (rn_pkgquery_parse (q2, &q) == 0 && q.op == RN_OP_ANY && q.text == NULL, "name only");
  CHECK (rn_pkgquery_parse (q3, &q) == 0 && q.op == RN_OP_GE &&
         strcmp (q.name, "libc6") == 0, ">= is not >");
  CHECK (rn_pkgquery_parse (q7, &q) == 0 && q.op == RN_OP_GT, ">");
  CHECK (rn_pkgquery_parse (q4, &q) == -1, "no name");
  CHECK (rn_pkgquery_parse (q5, &q) == -1, "no version");
  CHECK (rn_pkgquery_parse (q6, &q) == -1, "two operators");
  CHECK (rn_pkgquery_parse (q8, &q) == -1, "=> is not an operator");
  CHECK (rn_verop_holds (RN_OP_LT, -1) && !rn_verop_holds (RN_OP_LT, 0) &&
         rn_verop_holds (RN_OP_LE, 0) && rn_verop_holds (RN_OP_GE, 1) &&
         !rn_verop_holds (RN_OP_GT, 0) && rn_verop_holds (RN_OP_EQ, 0) &&
         !rn_verop_holds (RN_OP_EQ, 1), "operators");
}

int
main (void)
{
  th_run ("vercmp-deb-table", test_deb_table);
  th_run ("vercmp-deb-tilde-chain", test_deb_tilde_chain);
  th_run ("vercmp-rpm-table", test_rpm_table);
  th_run ("vercmp-rpm-release", test_rpm_release);
  th_run ("vercmp-evr-parse", test_evr_parse);
  th_run ("vercmp-pkgquery", test_pkgquery);
  return th_done ();
}
