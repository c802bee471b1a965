/*
 * Unit tests for the actor of a registry row (ident.c): the user rule
 * and its $USER fallback, the host, and the git identity read from the
 * config files git reads, in git's order, with $XDG_CONFIG_HOME and
 * $HOME deciding where, and libgit2 reading what the plain reader does
 * not follow (an include).  Works in a fresh temporary $HOME.
 */

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ident.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/mlops-test-ident.XXXXXX";

static void put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);
	FILE *fp = fopen(path, "w");

	if (fp) {
		fputs(text, fp);
		fclose(fp);
	} else {
		printf("# cannot write %s\n", path);
	}
	free(path);
}

static void mk(const char *rel)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);

	mkdir(path, 0700);
	free(path);
}

static void drop(const char *rel)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);

	unlink(path);
	free(path);
}

static void test_user_rule(void)
{
	char user[128], small[4];

	ident_pick_user("ada", "bob", user, sizeof(user));
	is_str(user, "ada", "the passwd entry's name comes first");
	ident_pick_user(NULL, "bob", user, sizeof(user));
	is_str(user, "bob", "no passwd entry: $USER");
	ident_pick_user("", "bob", user, sizeof(user));
	is_str(user, "bob", "an empty passwd name: $USER");
	ident_pick_user(NULL, "", user, sizeof(user));
	is_str(user, "unknown", "an empty $USER: 'unknown'");
	ident_pick_user(NULL, NULL, user, sizeof(user));
	is_str(user, "unknown", "neither: 'unknown'");
	ident_pick_user("grace", NULL, small, sizeof(small));
	is_str(small, "gra", "a long name is cut to the buffer");
}

static void test_actor(void)
{
	struct passwd *pw = getpwuid(geteuid());
	struct ident who;
	char host[256];

	ident_actor(&who);
	if (pw && pw->pw_name && *pw->pw_name)
		is_str(who.user, pw->pw_name, "the user is this process's");
	else
		ok(who.user[0] != '\0', "the user is never empty");
	if (gethostname(host, sizeof(host)) || !*host)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	is_str(who.host, host, "the host is gethostname()'s");
}

static void is_git(const char *dir, const char *want, const char *what)
{
	char *got = ident_git(dir);

	is_str(got, want, "%s", what);
	free(got);
}

static void test_git(void)
{
	char *home = xasprintf("%s/home", tmpdir);
	char *work = xasprintf("%s/work", tmpdir);
	char *repo = xasprintf("%s/repo/sub", tmpdir);
	char *xdg = xasprintf("%s/xdg", tmpdir);
	char *sys = NULL;
	size_t len;

	/* /etc/gitconfig is read first; the tests need it without a user. */
	sys = tap_slurp("/etc/gitconfig", &len);
	if (sys && strstr(sys, "[user")) {
		ok(1, "# SKIP /etc/gitconfig sets a user");
		goto out;
	}
	mk("home");
	mk("home/.config");
	mk("home/.config/git");
	mk("work");
	mk("xdg");
	mk("xdg/git");
	mk("repo");
	mk("repo/.git");
	mk("repo/sub");
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");

	is_git(work, NULL, "no config: no git identity");
	put("home/.gitconfig", "[user]\n\tname = Ada Lovelace\n");
	is_git(work, NULL, "a name without an email: none");
	put("home/.gitconfig", "[user]\n\tname = \n\temail = a@x\n");
	is_git(work, NULL, "an empty name: none");
	put("home/.gitconfig",
	    "[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n");
	is_git(work, "Ada Lovelace <ada@example.org>", "~/.gitconfig");

	put("home/.config/git/config", "[user]\n\temail = old@x\n");
	is_git(work, "Ada Lovelace <ada@example.org>",
	       "~/.gitconfig wins over ~/.config/git/config");
	put("home/.gitconfig", "[user]\n\tname = Ada Lovelace\n");
	is_git(work, "Ada Lovelace <old@x>",
	       "each key from the last file that sets it");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	put("xdg/git/config", "[user]\n\temail = xdg@x\n");
	is_git(work, "Ada Lovelace <xdg@x>",
	       "$XDG_CONFIG_HOME replaces ~/.config");
	setenv("XDG_CONFIG_HOME", "", 1);
	is_git(work, "Ada Lovelace <old@x>",
	       "an empty $XDG_CONFIG_HOME means ~/.config");

	put("repo/.git/config", "[user]\n\tname = Repo Person\n");
	is_git(repo, "Repo Person <old@x>",
	       "the enclosing repository's config wins, found from below");

	/* An include: libgit2 reads it (this also starts libgit2). */
	put("home/inc", "[user]\n\tname = Inc Luded\n\temail = inc@x\n");
	put("home/.gitconfig", "[include]\n\tpath = inc\n");
	drop("home/.config/git/config");
	is_git(work, "Inc Luded <inc@x>",
	       "an include is followed, through libgit2");
out:
	free(sys);
	free(home);
	free(work);
	free(repo);
	free(xdg);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	test_user_rule();
	test_actor();
	test_git();
	{
		char *rm = xasprintf("rm -rf '%s'", tmpdir);

		if (system(rm))
			printf("# cannot remove %s\n", tmpdir);
		free(rm);
	}
	return done_testing();
}
