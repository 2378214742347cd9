/* connect_startdt.c - connect + STARTDT act/con round trips (the `connect` part), with p50/p90/p99.
 *
 * Build:  gcc -O2 -Wall -o connect_startdt connect_startdt.c
 * Usage:  connect_startdt --port P [--count 1000] [--timeout 5] [--server-pid PID] [--label S]
 *
 * Each round: socket, connect (blocking, loopback), STARTDT act, wait for STARTDT con, close; the time
 * of the whole round. fastmaster's `connect` mode does the same but prints p50/p99 only; the part
 * reports p90 too. An I-frame (e.g. M_EI_NA_1 after a start) or TESTFR before the con is skipped.
 * Prints one JSON line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double cpu_pid(int pid) {
    clockid_t id;
    struct timespec ts;
    if (pid <= 0 || clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &ts) != 0) return -1;
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(const double *v, int n, double p) {
    int k = (int)(p / 100.0 * (n - 1) + 0.5);
    return v[k < 0 ? 0 : k > n - 1 ? n - 1 : k];
}

/* One round; 0 when STARTDT con arrived within `timeout`. */
static int round_trip(int port, double timeout) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1, result = -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in dst = {0};
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint8_t startdt[6] = {0x68, 4, 0x07, 0, 0, 0}, buf[4096];
    size_t len = 0;
    double deadline = mono() + timeout;
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 || send(fd, startdt, 6, MSG_NOSIGNAL) != 6) goto done;
    while (mono() < deadline) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, (int)((deadline - mono()) * 1000) + 1) <= 0) continue;
        ssize_t r = recv(fd, buf + len, sizeof buf - len, 0);
        if (r <= 0) goto done;
        len += (size_t)r;
        size_t off = 0;
        while (len - off >= 2 && len - off >= (size_t)buf[off + 1] + 2) {
            if (buf[off] != 0x68) goto done;
            if (buf[off + 2] == 0x0B) { result = 0; goto done; }
            off += (size_t)buf[off + 1] + 2;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
        if (len == sizeof buf) goto done;
    }
done:
    close(fd);
    return result;
}

int main(int argc, char **argv) {
    int port = 0, count = 1000, server_pid = 0;
    double timeout = 5;
    const char *label = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--count")) count = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--timeout")) timeout = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--server-pid")) server_pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--label")) label = argv[i + 1];
        else port = 0;
    }
    if (port <= 0 || count < 1 || argc % 2 == 0) {
        fprintf(stderr, "usage: connect_startdt --port P [--count 1000] [--timeout 5] [--server-pid PID] [--label S]\n");
        return 2;
    }
    double *ms = calloc((size_t)count, sizeof *ms);
    int ok = 0, failures = 0;
    double w0 = mono(), c0 = cpu_pid(server_pid);
    for (int i = 0; i < count; i++) {
        double t0 = mono();
        if (round_trip(port, timeout) == 0) ms[ok++] = (mono() - t0) * 1e3;
        else failures++;
    }
    double wall = mono() - w0, c1 = cpu_pid(server_pid);
    qsort(ms, (size_t)ok, sizeof *ms, cmp_double);
    printf("{\"metric\":\"connect_startdt\",\"client\":\"connect_startdt\",\"port\":%d", port);
    if (label) printf(",\"label\":\"%s\"", label);
    printf(",\"samples\":%d,\"failures\":%d", ok, failures);
    if (ok)
        printf(",\"ms_p50\":%.3f,\"ms_p90\":%.3f,\"ms_p99\":%.3f,\"ms_min\":%.3f,\"ms_max\":%.3f", pct(ms, ok, 50),
               pct(ms, ok, 90), pct(ms, ok, 99), ms[0], ms[ok - 1]);
    if (c0 >= 0 && c1 >= 0) printf(",\"server_cpu_pct\":%.1f", 100 * (c1 - c0) / wall);
    printf("}\n");
    free(ms);
    return failures ? 1 : 0;
}
