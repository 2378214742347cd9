/* refusals.c - C_IC_NA_1 to common addresses the outstation does not serve, under the k window (the
 * `refusals` part).
 *
 * Build:  gcc -O2 -Wall -o refusals refusals.c
 * Usage:  refusals --port P [--count 2000] [--ca-first 20000] [--ca-span 1000] [--k 12] [--w 8]
 *                  [--timeout 60] [--server-pid PID] [--label S]
 *
 * One connection: STARTDT act/con, then `count` C_IC_NA_1 (COT 6, QOI 20), request i to CA
 * ca-first + i % ca-span (none of which the outstation serves). A request is sent only while fewer than
 * k of our I-frames are unacknowledged by the outstation's N(R) (IEC 60870-5-104 clause 5.5: a
 * controlling station keeps to k as well); its I-frames are acknowledged with an S-frame once w are
 * unacknowledged, or when nothing more arrives for 10 ms. Measured: answers/s from the first request
 * to the last answer, and what each answer is: the standard asks for the request mirrored with COT 46
 * (unknown common address) and the P/N bit set. Answers are classified by type, COT and P/N; an answer
 * also has to carry the CA of a request not yet answered (an M_EI_NA_1 is counted apart, not as an answer).
 * Prints one JSON line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int o_port = 0, o_count = 2000, o_ca_first = 20000, o_ca_span = 1000, o_k = 12, o_w = 8, o_server_pid = 0;
static double o_timeout = 60;
static const char *o_label = NULL;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double cpu_self(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double cpu_pid(int pid) {
    clockid_t id;
    struct timespec ts;
    if (pid <= 0 || clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &ts) != 0) return -1;
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fd = -1;
static uint16_t vs, vr, acked; /* our next N(S), next expected N(S), the outstation's last N(R) */
static int unacked_rx, closed;
static long sent, answers, end_of_init, cot46_negative, other_answers, wrong_ca, link_seq_errors, max_outstanding;
static int first_other_type = -1, first_other_cot = -1, first_other_negative = -1;
static long *pending_ca; /* requests sent per CA offset and not answered yet */

static void send_all(const uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pf = {fd, POLLOUT, 0};
                poll(&pf, 1, 100);
                continue;
            }
            closed = 1;
            return;
        }
        p += r;
        n -= (size_t)r;
    }
}
static void send_s(void) {
    uint8_t f[6] = {0x68, 4, 1, 0, (uint8_t)(vr << 1), (uint8_t)(vr >> 7)};
    send_all(f, 6);
    unacked_rx = 0;
}
static int outstanding(void) { return (vs - acked) & 0x7FFF; }

static void send_request(long i) {
    int ca = o_ca_first + (int)(i % o_ca_span);
    uint8_t f[16] = {0x68, 14, (uint8_t)(vs << 1), (uint8_t)(vs >> 7), (uint8_t)(vr << 1), (uint8_t)(vr >> 7),
                     100, 1, 6, 0, (uint8_t)ca, (uint8_t)(ca >> 8), 0, 0, 0, 20};
    send_all(f, 16);
    vs = (vs + 1) & 0x7FFF;
    unacked_rx = 0; /* the I-frame carries N(R) */
    pending_ca[i % o_ca_span]++;
    sent++;
    if (outstanding() > max_outstanding) max_outstanding = outstanding();
}

static void on_asdu(const uint8_t *a, int n) {
    if (n < 6) return;
    int tid = a[0], cot = a[2] & 0x3F, negative = !!(a[2] & 0x40), ca = a[4] | (a[5] << 8);
    if (tid == 70) { /* M_EI_NA_1, end of initialisation: the first connection after a start gets it */
        end_of_init++;
        return;
    }
    answers++;
    if (tid == 100 && cot == 46 && negative) cot46_negative++;
    else {
        other_answers++;
        if (first_other_type < 0) first_other_type = tid, first_other_cot = cot, first_other_negative = negative;
    }
    long offset = ca - o_ca_first;
    if (offset < 0 || offset >= o_ca_span || pending_ca[offset] == 0) wrong_ca++;
    else pending_ca[offset]--;
}

/* Reads what is there; returns 0, or -1 when the connection is gone. */
static unsigned char rbuf[1 << 16];
static size_t rlen;
static int startdt_con;
static int receive(int wait_ms) {
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, wait_ms) <= 0) {
        if (unacked_rx) send_s(); /* idle: acknowledge what arrived */
        return 0;
    }
    for (;;) {
        ssize_t r = recv(fd, rbuf + rlen, sizeof rbuf - rlen, MSG_DONTWAIT);
        if (r == 0) { closed = 1; return -1; }
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            closed = 1;
            return -1;
        }
        rlen += (size_t)r;
        size_t off = 0;
        while (rlen - off >= 2) {
            const uint8_t *f = rbuf + off;
            size_t len = (size_t)f[1] + 2;
            if (f[0] != 0x68 || len < 6) { closed = 1; return -1; }
            if (rlen - off < len) break;
            if ((f[2] & 1) == 0) { /* I-frame: its N(R) acknowledges our requests */
                uint16_t ns = (uint16_t)((f[2] | (f[3] << 8)) >> 1);
                if (ns != vr) link_seq_errors++;
                vr = (ns + 1) & 0x7FFF;
                acked = (uint16_t)((f[4] | (f[5] << 8)) >> 1);
                unacked_rx++;
                on_asdu(f + 6, (int)len - 6);
            } else if ((f[2] & 3) == 1) { /* S-frame */
                acked = (uint16_t)((f[4] | (f[5] << 8)) >> 1);
            } else if (f[2] == 0x43) {
                uint8_t con[6] = {0x68, 4, 0x83, 0, 0, 0};
                send_all(con, 6);
            } else if (f[2] == 0x0B) startdt_con = 1;
            off += len;
        }
        memmove(rbuf, rbuf + off, rlen - off);
        rlen -= off;
        if (unacked_rx >= o_w) send_s();
    }
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: refusals --port P [--count 2000] [--ca-first 20000] [--ca-span 1000] [--k 12] [--w 8]\n"
                    "                [--timeout 60] [--server-pid PID] [--label S]\n");
    exit(2);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--port")) o_port = atoi(NEXT());
        else if (!strcmp(a, "--count")) o_count = atoi(NEXT());
        else if (!strcmp(a, "--ca-first")) o_ca_first = atoi(NEXT());
        else if (!strcmp(a, "--ca-span")) o_ca_span = atoi(NEXT());
        else if (!strcmp(a, "--k")) o_k = atoi(NEXT());
        else if (!strcmp(a, "--w")) o_w = atoi(NEXT());
        else if (!strcmp(a, "--timeout")) o_timeout = atof(NEXT());
        else if (!strcmp(a, "--server-pid")) o_server_pid = atoi(NEXT());
        else if (!strcmp(a, "--label")) o_label = NEXT();
        else usage();
    }
    if (o_port <= 0 || o_count < 1 || o_ca_span < 1 || o_k < 1 || o_w < 1 || o_ca_first < 1 ||
        o_ca_first + o_ca_span - 1 > 65534)
        usage();
    pending_ca = calloc((size_t)o_ca_span, sizeof *pending_ca);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in dst = {0};
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)o_port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *error = NULL;
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) error = "connect failed";
    double t_start = mono();
    if (!error) {
        uint8_t startdt[6] = {0x68, 4, 0x07, 0, 0, 0};
        send_all(startdt, 6);
        while (!startdt_con && !closed && mono() - t_start < 5) receive(10);
        if (!startdt_con) error = "no STARTDT con";
    }
    double t0 = mono(), c0 = cpu_self(), s0 = cpu_pid(o_server_pid), t_last = t0;
    while (!error && answers < o_count) {
        while (sent < o_count && outstanding() < o_k) send_request(sent);
        long before = answers;
        if (receive(10) < 0) { error = "connection closed by the outstation"; break; }
        double now = mono();
        if (answers > before) t_last = now;
        else if (now - t_last > 5) { error = "no answer for 5 s"; break; }
        if (now - t0 > o_timeout) { error = "timed out"; break; }
    }
    if (!closed && unacked_rx) send_s();
    double span = t_last - t0, c1 = cpu_self(), s1 = cpu_pid(o_server_pid);
    printf("{\"metric\":\"refusals\",\"client\":\"refusals\",\"port\":%d", o_port);
    if (o_label) printf(",\"label\":\"%s\"", o_label);
    printf(",\"ok\":%s,\"requests\":%ld,\"answers\":%ld,\"cot46_negative\":%ld,\"other_answers\":%ld,\"wrong_ca\":%ld,"
           "\"end_of_initialisation\":%ld,\"k\":%d,\"max_outstanding\":%ld,\"link_seq_errors\":%ld,\"seconds\":%.6f,\"answers_per_s\":%.1f,"
           "\"client_cpu_pct\":%.1f",
           !error && answers == o_count && other_answers == 0 && wrong_ca == 0 ? "true" : "false", sent, answers,
           cot46_negative, other_answers, wrong_ca, end_of_init, o_k, max_outstanding, link_seq_errors, span,
           span > 0 ? answers / span : 0.0, span > 0 ? 100 * (c1 - c0) / (mono() - t0) : 0.0);
    if (s0 >= 0 && s1 >= 0) printf(",\"server_cpu_pct\":%.1f", 100 * (s1 - s0) / (mono() - t0));
    if (first_other_type >= 0)
        printf(",\"first_other_type\":%d,\"first_other_cot\":%d,\"first_other_negative\":%s", first_other_type,
               first_other_cot, first_other_negative ? "true" : "false");
    if (error) printf(",\"error\":\"%s\"", error);
    printf("}\n");
    close(fd);
    return error ? 1 : 0;
}
