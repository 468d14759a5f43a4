/* SPDX-License-Identifier: MIT */
/*
 * names.c: the reserved names and the Latin fold; see names.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"

/* ---- reserved names --------------------------------------------------- */

/* The families, each with where its names come from.  A name that several
 * families claim is listed under the most dangerous. */
static const char F_ROOT[] = "the superuser, or a name for it";
/* sudoers defaults: Debian %sudo, Ubuntu %admin and %sudo, RHEL, Fedora
 * and Arch %wheel; polkit's admin identities: the same groups. */
static const char F_ADMIN[] = "an administrators' group that the default "
                              "sudoers or polkit rules trust";
/* Membership grants root through a daemon's socket or raw devices. */
static const char F_ROOTEQ[] = "a group whose members can become root "
                               "(a container, VM or disk manager)";
/* Debian's base-passwd, Fedora's setup (uidgid), SUSE's system-users and
 * Arch's filesystem package: the base system's accounts and the groups
 * that own devices, logs and spools. */
static const char F_SYSTEM[] = "an account or group of the base system";
/* Accounts and groups that common packages create when installed. */
static const char F_SERVICE[] = "an account or group that a common package "
                                "creates";
/* cloud-init's default user on the major distributions' cloud images,
 * which it puts in the sudo or wheel group. */
static const char F_CLOUD[] = "the administrator of a cloud image";

static const struct reserved {
	const char *name;
	const char *why;
} reserved[] = {
        /* Sorted by name (strcmp): names_reserved() searches it. */
        {"adm", F_SYSTEM},          {"admin", F_ADMIN},
        {"almalinux", F_CLOUD},     {"apache", F_SERVICE},
        {"audio", F_SYSTEM},        {"avahi", F_SERVICE},
        {"backup", F_SYSTEM},       {"bin", F_SYSTEM},
        {"bind", F_SERVICE},        {"bluetooth", F_SYSTEM},
        {"cdrom", F_SYSTEM},        {"centos", F_CLOUD},
        {"chrony", F_SERVICE},      {"cloud-user", F_CLOUD},
        {"colord", F_SERVICE},      {"console", F_SYSTEM},
        {"crontab", F_SYSTEM},      {"cups", F_SERVICE},
        {"daemon", F_SYSTEM},       {"dbus", F_SYSTEM},
        {"debian", F_CLOUD},        {"debian-exim", F_SERVICE},
        {"dialout", F_SYSTEM},      {"dip", F_SYSTEM},
        {"disk", F_ROOTEQ},         {"dnsmasq", F_SERVICE},
        {"docker", F_ROOTEQ},       {"dockerroot", F_ROOTEQ},
        {"ec2-user", F_CLOUD},      {"fax", F_SYSTEM},
        {"fedora", F_CLOUD},        {"floppy", F_SYSTEM},
        {"ftp", F_SYSTEM},          {"games", F_SYSTEM},
        {"gdm", F_SERVICE},         {"gnats", F_SYSTEM},
        {"gpio", F_SYSTEM},         {"halt", F_SYSTEM},
        {"http", F_SYSTEM},         {"i2c", F_SYSTEM},
        {"incus", F_ROOTEQ},        {"incus-admin", F_ROOTEQ},
        {"input", F_SYSTEM},        {"irc", F_SYSTEM},
        {"kmem", F_ROOTEQ},         {"kvm", F_ROOTEQ},
        {"libvirt", F_ROOTEQ},      {"libvirt-dnsmasq", F_SERVICE},
        {"libvirt-qemu", F_ROOTEQ}, {"lightdm", F_SERVICE},
        {"list", F_SYSTEM},         {"locate", F_SYSTEM},
        {"lock", F_SYSTEM},         {"log", F_SYSTEM},
        {"lp", F_SYSTEM},           {"lpadmin", F_ADMIN},
        {"lxd", F_ROOTEQ},          {"mail", F_SYSTEM},
        {"man", F_SYSTEM},          {"mem", F_ROOTEQ},
        {"messagebus", F_SYSTEM},   {"microk8s", F_ROOTEQ},
        {"mlocate", F_SYSTEM},      {"mysql", F_SERVICE},
        {"netdev", F_SYSTEM},       {"network", F_SYSTEM},
        {"news", F_SYSTEM},         {"nfsnobody", F_SYSTEM},
        {"nginx", F_SERVICE},       {"nobody", F_SYSTEM},
        {"nogroup", F_SYSTEM},      {"nscd", F_SERVICE},
        {"nslcd", F_SERVICE},       {"ntp", F_SERVICE},
        {"operator", F_SYSTEM},     {"optical", F_SYSTEM},
        {"plocate", F_SYSTEM},      {"plugdev", F_SYSTEM},
        {"polkitd", F_SYSTEM},      {"postdrop", F_SERVICE},
        {"postfix", F_SERVICE},     {"postgres", F_SERVICE},
        {"power", F_SYSTEM},        {"printadmin", F_ADMIN},
        {"proc", F_SYSTEM},         {"proxy", F_SYSTEM},
        {"pulse", F_SERVICE},       {"pulse-access", F_SERVICE},
        {"qemu", F_ROOTEQ},         {"redis", F_SERVICE},
        {"render", F_SYSTEM},       {"rfkill", F_SYSTEM},
        {"rocky", F_CLOUD},         {"root", F_ROOT},
        {"rpc", F_SYSTEM},          {"rpcuser", F_SYSTEM},
        {"rtkit", F_SERVICE},       {"sambashare", F_SERVICE},
        {"saned", F_SERVICE},       {"sasl", F_SYSTEM},
        {"saslauth", F_SYSTEM},     {"scanner", F_SYSTEM},
        {"sddm", F_SERVICE},        {"sgx", F_SYSTEM},
        {"shadow", F_ROOTEQ},       {"shutdown", F_SYSTEM},
        {"spi", F_SYSTEM},          {"src", F_SYSTEM},
        {"ssh_keys", F_SYSTEM},     {"sshd", F_SYSTEM},
        {"ssl-cert", F_SYSTEM},     {"sssd", F_SERVICE},
        {"staff", F_ADMIN},         {"statd", F_SYSTEM},
        {"storage", F_SYSTEM},      {"sudo", F_ADMIN},
        {"sudoers", F_ADMIN},       {"sync", F_SYSTEM},
        {"sys", F_SYSTEM},          {"tape", F_SYSTEM},
        {"tcpdump", F_SERVICE},     {"toor", F_ROOT},
        {"trusted", F_SYSTEM},      {"tss", F_SYSTEM},
        {"tty", F_SYSTEM},          {"ubuntu", F_CLOUD},
        {"unbound", F_SERVICE},     {"usbmux", F_SERVICE},
        {"users", F_SYSTEM},        {"utempter", F_SYSTEM},
        {"utmp", F_SYSTEM},         {"uucp", F_SYSTEM},
        {"uuidd", F_SYSTEM},        {"vboxusers", F_ROOTEQ},
        {"video", F_SYSTEM},        {"voice", F_SYSTEM},
        {"wheel", F_ADMIN},         {"wireshark", F_SERVICE},
        {"www-data", F_SYSTEM},     {"wwwrun", F_SYSTEM},
};

/* Whole families by prefix. */
static const struct reserved reserved_prefixes[] = {
        /* systemd's own users and groups (systemd-journal reads every
         * log; systemd-network, -resolve, -timesync, -coredump ...). */
        {"systemd-", "one of systemd's own accounts and groups"},
        /* Debian's convention for system accounts (_apt, _chrony). */
        {"_", "a system account by Debian's naming"},
};

static int cmp_reserved(const void *key, const void *elem)
{
	return strcmp(key, ((const struct reserved *)elem)->name);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool extra_matches(const char *name, const char *entry)
{
	size_t n = strlen(entry);

	if (n > 0 && entry[n - 1] == '*')
		return strncmp(name, entry, n - 1) == 0;
	return strcmp(name, entry) == 0;
}

const char *names_reserved(const char *name, char *const *extra, size_t nextra)
{
	const struct reserved *r = bsearch(name, reserved, ARRAY_SIZE(reserved),
	                                   sizeof(*r), cmp_reserved);

	if (r != NULL)
		return r->why;
	for (size_t i = 0; i < ARRAY_SIZE(reserved_prefixes); i++)
		if (starts_with(name, reserved_prefixes[i].name))
			return reserved_prefixes[i].why;
	for (size_t i = 0; i < nextra; i++)
		if (extra_matches(name, extra[i]))
			return "listed in reserved_names";
	return NULL;
}

const char *names_reserved_entry_invalid(const char *entry)
{
	size_t n = strlen(entry);

	if (n > 0 && entry[n - 1] == '*')
		n--;
	if (n == 0)
		return "an entry is empty";
	for (size_t i = 0; i < n; i++) {
		char c = entry[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return "entries are lower-case names, each may end "
			       "in '*'";
	}
	return NULL;
}

/* ---- the Latin fold --------------------------------------------------- */

#include "latin-fold.h"

/* Decodes one UTF-8 sequence at S (N bytes left); returns its length, or 0
 * when it is not well-formed (overlong, surrogate, past U+10FFFF, cut). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, v = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, v = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, v = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static int cmp_fold(const void *key, const void *elem)
{
	uint32_t cp = *(const uint32_t *)key;
	uint32_t e = ((const struct latin_fold *)elem)->cp;

	return cp < e ? -1 : cp > e;
}

/* The ASCII letter CP folds to, or 0. */
static char fold_one(uint32_t cp)
{
	const struct latin_fold *f;

	if (cp > 0xffff)
		return 0;
	f = bsearch(&cp, latin_fold, ARRAY_SIZE(latin_fold), sizeof(*f),
	            cmp_fold);
	return f ? f->base : 0;
}

/* Combining diacritical marks: dropped after a Latin letter, as the
 * decomposition of a precomposed letter would be. */
static bool combining_mark(uint32_t cp)
{
	return cp >= 0x0300 && cp <= 0x036f;
}

static bool ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int names_fold(const char *in, char *out, size_t outlen, uint32_t *bad)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		char c;

		if (len == 0)
			return -EILSEQ;
		i += len;
		if (cp < 0x20 || cp == 0x7f) {
			*bad = cp;
			return -EDOM;
		}
		if (cp < 0x80)
			c = (char)cp;
		else if (combining_mark(cp) && o > 0 &&
		         ascii_letter(out[o - 1]))
			continue;
		else if ((c = fold_one(cp)) == 0) {
			*bad = cp;
			return -EDOM;
		}
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	if (o >= outlen)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

/* Characters that show nothing, or reorder or join what is shown. */
static bool invisible(uint32_t cp)
{
	return cp == 0x00ad || cp == 0x034f || cp == 0x061c || cp == 0x115f ||
	       cp == 0x1160 || cp == 0x17b4 || cp == 0x17b5 || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0x3164 ||
	       (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff || cp == 0xffa0 ||
	       (cp >= 0xfff0 && cp <= 0xfffb) ||
	       (cp >= 0xe0000 && cp <= 0xe0fff);
}

static bool other_space(uint32_t cp)
{
	return cp == 0x00a0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	       cp == 0x3000;
}

void names_clean_text(char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_decode(in + i, n - i, &cp);

		if (len == 0) {
			i++;
			continue;
		}
		if (!(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == ':' ||
		      invisible(cp))) {
			memmove(s + o, s + i, len);
			o += len;
		}
		i += len;
	}
	s[o] = '\0';
}

const char *names_char_kind(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return "a control character";
	if (invisible(cp))
		return "an invisible or formatting character";
	if (other_space(cp))
		return "a space other than the ASCII one";
	if (combining_mark(cp))
		return "a combining mark that follows no Latin letter";
	return "not a Latin letter with an ASCII base";
}
