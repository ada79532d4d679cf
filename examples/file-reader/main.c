/*
 * file-reader: prints a file from a directory pre-open, then checks that the
 * sandbox holds.
 *
 * The Enarx.toml next to this file pre-opens the host directory ./data as
 * "/data" in the workload (kind = "dir" is this project's extension to the
 * Enarx schema). It is the fourth [[files]] entry, so fd 3: wasi-libc finds
 * pre-opened directories by scanning upwards from fd 3 and stops at the first
 * fd that is not one, so directory entries must come right after stdio.
 *
 * Steps:
 *   1. print /data/<argv[1]> (default message.txt) to stdout;
 *   2. try to leave /data, and print one "escape refused: ..." line for each
 *      attempt that fails (as it must), or "ESCAPE NOT REFUSED: ..." if not:
 *        - libc open("/data/../Enarx.toml"): the host sees "../Enarx.toml";
 *        - libc open("/etc/passwd"): wasi-libc itself refuses a path outside
 *          every pre-open, before asking the host;
 *        - raw path_open(fd, "/etc/passwd"): an absolute path sent to the host;
 *        - raw path_open(fd, "outside"): data/outside is a symlink to
 *          ../Enarx.toml, which lies outside the pre-open;
 *   3. try to create a file in /data and print "write refused: ..." (the
 *      example's pre-open is writable = false) or "write allowed: ...".
 *
 * Exit status: 0 if the file was printed and every escape was refused;
 * 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define DIR_NAME "/data"

static int failures;

/* Returns the fd whose entry in FD_NAMES is `name`, or -1. */
static int find_fd(const char *name)
{
    const char *names = getenv("FD_NAMES");
    if (names == NULL)
        return -1;
    size_t len = strlen(name);
    int fd = 0;
    for (const char *p = names;; fd++) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && memcmp(p, name, len) == 0)
            return fd;
        if (end == NULL)
            return -1;
        p = end + 1;
    }
}

static void print_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "file-reader: cannot open %s: %s\n", path, strerror(errno));
        failures++;
        return;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    if (ferror(f)) {
        fprintf(stderr, "file-reader: cannot read %s: %s\n", path, strerror(errno));
        failures++;
    }
    fclose(f);
}

static void report(const char *what, int err)
{
    if (err != 0) {
        printf("escape refused: %s: %s (errno %d)\n", what, strerror(err), err);
    } else {
        printf("ESCAPE NOT REFUSED: %s\n", what);
        failures++;
    }
}

/* Through wasi-libc, the way ordinary C code would try it. */
static void try_libc_open(const char *path)
{
    char what[256];
    snprintf(what, sizeof what, "open(\"%s\")", path);
    int fd = open(path, O_RDONLY);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    report(what, err);
}

/* Straight to the host, so that wasi-libc's own checks cannot hide a hole. */
static void try_path_open(int dir_fd, const char *path)
{
    char what[256];
    snprintf(what, sizeof what, "path_open(fd %d, \"%s\")", dir_fd, path);
    __wasi_fd_t fd;
    __wasi_errno_t err = __wasi_path_open(
        (__wasi_fd_t)dir_fd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0,
        __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (err == 0) {
        (void)__wasi_fd_close(fd);
    }
    report(what, err);
}

static void try_write(void)
{
    const char *path = DIR_NAME "/.file-reader-probe";
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        printf("write refused: open(\"%s\", O_CREAT): %s (errno %d)\n", path, strerror(errno),
               errno);
        return;
    }
    close(fd);
    unlink(path);
    printf("write allowed: created and removed %s\n", path);
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "message.txt";

    int dir_fd = find_fd(DIR_NAME);
    if (dir_fd < 0) {
        fprintf(stderr, "file-reader: no file named \"%s\" in FD_NAMES (add a dir entry with "
                        "name = \"%s\" to Enarx.toml)\n", DIR_NAME, DIR_NAME);
        return 1;
    }

    char path[512];
    snprintf(path, sizeof path, "%s/%s", DIR_NAME, name);
    print_file(path);
    fflush(stdout);

    try_libc_open(DIR_NAME "/../Enarx.toml");
    try_libc_open("/etc/passwd");
    try_path_open(dir_fd, "/etc/passwd");
    try_path_open(dir_fd, "outside");
    try_write();

    return failures == 0 ? 0 : 1;
}
