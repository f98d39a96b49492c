/* modules/shutdown-manager/sm_file.c: the ready file and the drain lock.
 *
 * The ready file is upstream's whole handshake between the two containers
 * (it lives on the shared emptyDir): `envoy shutdown` creates it when the
 * drain is over and `/shutdown` answers once it exists. The lock,
 * "<ready-file>.lock" beside it, makes two drains at once safe: flock(2)
 * locks belong to the open file, so the kernel releases one when its holder
 * exits or is killed, and a stale lock file on disk means nothing. The lock
 * file is never unlinked: removing it while another process has it open
 * would let a third lock a new inode alongside. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/shutdown-manager/sm.h"

int sm_ready_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int sm_ready_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	/* Existence is the signal; the file stays empty, as upstream's does. */
	if (close(fd) != 0)
		return -errno;
	return 0;
}

int sm_ready_remove(const char *path)
{
	if (unlink(path) == 0 || errno == ENOENT)
		return 0;
	return -errno;
}

int sm_lock_try(const char *ready_file)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s.lock", ready_file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		close(fd);
		return err == EWOULDBLOCK ? -EWOULDBLOCK : -err;
	}
	return fd;
}

void sm_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}
