/*
 * exec.c - running a command after a job (ca-renew --exec): no shell.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ca.h"
#include "exec.h"

int
ca_exec_split(const char *arg, char **buf, char **v, size_t max)
{
	char *save;
	size_t n = 0;

	if ((*buf = strdup(arg)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (v[0] = strtok_r(*buf, " \t", &save); v[n] != NULL;
	    v[n] = strtok_r(NULL, " \t", &save))
		if (++n == max) {
			free(*buf);
			*buf = NULL;
			return ca_err(CA_ERR_CONFIG, "more than %zu words",
			    max - 1);
		}
	if (n == 0) {
		/* Empty: nothing to run (a unit file's EXEC= left blank). */
		free(*buf);
		*buf = NULL;
	}
	return 0;
}

int
ca_exec_run(char **argv)
{
	sigset_t none;
	pid_t pid;
	ssize_t n;
	int status, fd, err = 0, p[2];

	/* The child reports a failed execvp() through a close-on-exec pipe. */
	if (pipe2(p, O_CLOEXEC) != 0)
		return ca_err(CA_ERR_IO, "--exec: pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		err = errno;
		close(p[0]);
		close(p[1]);
		return ca_err(CA_ERR_IO, "--exec: fork: %s", strerror(err));
	}
	if (pid == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		/* ca-renew --daemon blocks the signals it waits for. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			dup2(fd, STDIN_FILENO);
			if (fd != STDIN_FILENO)
				close(fd);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(p[1], &err, sizeof(err));
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ca_err(CA_ERR_IO, "--exec: wait: %s",
			    strerror(errno));
	if (n == (ssize_t)sizeof(err))
		return ca_err(CA_ERR_IO,
		    "the certificate was renewed, but --exec cannot run %s: %s",
		    argv[0], strerror(err));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return ca_err(CA_ERR_IO,
		    "the certificate was renewed, but %s was killed by signal %d",
		    argv[0], WTERMSIG(status));
	return ca_err(CA_ERR_IO,
	    "the certificate was renewed, but %s exited with status %d",
	    argv[0], WEXITSTATUS(status));
}

#define MAX_PID_FILE	64

int
ca_exec_kill(const char *pid_file, int sig)
{
	char *buf = NULL, *end;
	size_t len;
	long pid;
	int rc;

	if ((rc = ca_file_read(pid_file, MAX_PID_FILE, &buf, &len)) != 0)
		return rc;
	errno = 0;
	pid = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (end == buf || *end != '\0' || errno != 0 || pid <= 1 ||
	    pid > 0x7fffffffL)
		rc = ca_err(CA_ERR_INVAL, "%s: not a process id", pid_file);
	else if (kill((pid_t)pid, sig) != 0)
		rc = ca_err(CA_ERR_IO, "%s: process %ld: %s", pid_file, pid,
		    strerror(errno));
	free(buf);
	return rc;
}

/* The signals worth sending to a server that reloads its certificate. */
static const struct {
	const char	*name;
	int		 sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
	{ "WINCH", SIGWINCH },
};

int
ca_exec_signal_parse(const char *s, int *sig)
{
	char *end;
	long n;
	size_t i;

	*sig = 0;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	errno = 0;
	n = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || n < 1 ||
	    n > 64)
		return ca_err(CA_ERR_INVAL, "unknown signal \"%s\"", s);
	*sig = (int)n;
	return 0;
}
