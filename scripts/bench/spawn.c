/*
 * spawn: run one plugin and report its own wall time and peak RSS.
 *
 * Why a C launcher: a child that Python spawns (vfork/posix_spawn or fork)
 * starts on Python's address space, and the kernel folds that address space's
 * RSS high-water mark (~18 MiB) into the child's ru_maxrss at exec. This
 * launcher is a few hundred KiB, so the plugin's ru_maxrss is its own.
 *
 * usage: spawn RESULT_FILE PLUGIN [ARGS...]
 * stdin/stdout/stderr and the environment pass through to PLUGIN; RESULT_FILE
 * receives "<wall_ns> <ru_maxrss_kib> <wait_status> <cpu_us>\n" (cpu = user + system).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: spawn RESULT PLUGIN [ARGS...]\n"); return 2; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 2; }
    if (pid == 0) {
        execve(argv[2], argv + 2, environ);
        perror("execve");
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) { perror("wait4"); return 2; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror("open result"); return 2; }
    long long cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL
                       + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    dprintf(fd, "%lld %ld %d %lld\n", ns, ru.ru_maxrss, status, cpu_us);
    close(fd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
