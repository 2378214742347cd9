/* manymasters.c - many IEC 60870-5-104 masters at once, in one process (the `masters` part).
 *
 * Build:  gcc -O2 -Wall -o manymasters manymasters.c
 * Usage:  manymasters --port P [--count 1000] [--ca-first 1] [--expect-gi K] [--w 8] [--idle-ack-ms 50]
 *                     [--concurrency 64] [--gi-timeout 120] [--host 127.0.0.1]
 *
 * Master I (0-based) binds its socket to 127.1.(I div 250).(I mod 250 + 1) before connecting (the same
 * mapping as gen_config.py --masters), so that the outstation's address filter puts it on its own
 * station; it sends STARTDT act, then a C_IC_NA_1 (QOI 20) to its common address ca-first + I, and
 * counts the objects with COT 20 between ACTCON and ACTTERM. At most `concurrency` masters are between
 * connect() and ACTTERM at a time: 1,000 SYNs at once would overflow a listen backlog and turn into
 * 1 s SYN retries, which measures the kernel, not the outstation.
 * When every GI has ended (or --gi-timeout passed) it prints one JSON line ("metric":"masters_gi") and
 * keeps every connection open, receiving spontaneous events (COT 3), until a line or EOF arrives on
 * stdin; then it prints a second JSON line ("metric":"masters_events") with, per master, the events
 * received and the first and last sequence value, the values missing between them and the values that
 * went backwards (the feeder's --ca-count mode gives every CA its own sequence 1, 2, 3, ...), and the
 * latency from the CP56 tags (ms resolution).
 *
 * Link layer as a master must do it: received I-frames are acknowledged with an S-frame once w are
 * unacknowledged, or after idle-ack-ms without data (well inside the outstation's t2/t1 and its 1 s
 * back-pressure rule); TESTFR act is answered. One epoll loop, non-blocking sockets.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *o_host = "127.0.0.1";
static int o_port = 0, o_count = 1000, o_ca_first = 1, o_w = 8, o_idle_ack_ms = 50, o_concurrency = 64;
static long o_expect_gi = -1;
static double o_gi_timeout = 120;

enum state { IDLE, CONNECTING, STARTING, INTERROGATING, RECEIVING, FAILED };

typedef struct {
    int fd;
    enum state st;
    uint8_t buf[1024];
    size_t len;
    uint16_t vs, vr;
    int unacked;
    double t_last_rx, t_start, t_gi_end;
    long gi_objects, seq_errors;
    int actcon_negative;
    const char *failure;
    /* events */
    long events, backwards, missing;
    long long seq_first, seq_last;
    long other_frames;
} master_t;

/* the first ASDU that was neither GI nor event, for the report (e.g. M_EI_NA_1 after a start) */
static int other_type = -1, other_cot = -1;

static master_t *masters;
static int in_flight; /* between connect() and the end of its GI */

#define LAT_MIN (-1000)
#define LAT_BINS 120000
static uint32_t lat_hist[LAT_BINS];
static long lat_n;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static double cpu_self(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static int64_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}
static int64_t cp56_ms(const uint8_t *b) {
    unsigned ms = b[0] | (b[1] << 8), mi = b[2] & 0x3F, h = b[3] & 0x1F, d = b[4] & 0x1F, mo = b[5] & 0x0F;
    int y = 2000 + (b[6] & 0x7F);
    if (ms > 59999 || mi > 59 || h > 23 || d < 1 || mo < 1 || mo > 12) return -1;
    return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000LL + ms;
}
static double lat_pct(double p) {
    if (lat_n <= 0) return -1;
    long target = (long)(p / 100.0 * (lat_n - 1) + 0.5), acc = 0;
    for (int i = 0; i < LAT_BINS; i++) {
        acc += lat_hist[i];
        if (acc > target) return (double)(i + LAT_MIN);
    }
    return -1;
}

static void fail(master_t *m, const char *why) {
    if (m->st == FAILED) return;
    if (m->st != RECEIVING) in_flight--;
    m->st = FAILED;
    m->failure = why;
    if (m->fd >= 0) close(m->fd);
    m->fd = -1;
}

/* Writes a whole (small) frame; the socket buffer of a master that sends only S-frames never fills. */
static void send_frame(master_t *m, const uint8_t *f, size_t n) {
    while (n) {
        ssize_t r = send(m->fd, f, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            fail(m, errno == EAGAIN ? "send buffer full" : "send failed");
            return;
        }
        f += r;
        n -= (size_t)r;
    }
}
static void send_u(master_t *m, uint8_t ctl) {
    uint8_t f[6] = {0x68, 4, ctl, 0, 0, 0};
    send_frame(m, f, 6);
}
static void send_s(master_t *m) {
    uint8_t f[6] = {0x68, 4, 1, 0, (uint8_t)(m->vr << 1), (uint8_t)(m->vr >> 7)};
    send_frame(m, f, 6);
    m->unacked = 0;
}
static void send_gi(master_t *m, int ca) {
    uint8_t f[16] = {0x68, 14, (uint8_t)(m->vs << 1), (uint8_t)(m->vs >> 7), (uint8_t)(m->vr << 1), (uint8_t)(m->vr >> 7),
                     100, 1, 6, 0, (uint8_t)ca, (uint8_t)(ca >> 8), 0, 0, 0, 20};
    send_frame(m, f, 16);
    m->vs = (m->vs + 1) & 0x7FFF;
    m->unacked = 0;
}

static void on_asdu(master_t *m, const uint8_t *a, int alen, double now, int64_t now_ms) {
    if (alen < 6) return;
    uint8_t tid = a[0], num = a[1] & 0x7F, sq = a[1] & 0x80, cotb = a[2], cot = cotb & 0x3F;
    if (tid == 100) {
        if (cot == 7 && (cotb & 0x40)) { m->actcon_negative = 1; m->t_gi_end = now; fail(m, "negative ACTCON"); }
        else if (cot == 10 && m->st == INTERROGATING) { m->st = RECEIVING; m->t_gi_end = now; in_flight--; }
        return;
    }
    if (cot == 20) { m->gi_objects += num; return; }
    if (cot != 3 || m->st != RECEIVING) {
        if (other_type < 0) other_type = tid, other_cot = cot;
        m->other_frames++;
        return;
    }
    int esize, toff;
    switch (tid) {
    case 36: esize = 12; toff = 5; break; /* M_ME_TF_1 */
    case 13: esize = 5; toff = -1; break; /* M_ME_NC_1 */
    default: m->other_frames++; return;
    }
    const uint8_t *p = a + 6, *end = a + alen;
    for (int i = 0; i < num; i++) {
        if (!sq || i == 0) p += 3;
        if (p + esize > end) break;
        float f;
        memcpy(&f, p, 4);
        long long s = (long long)f;
        m->events++;
        if (m->events == 1) m->seq_first = m->seq_last = s;
        else if (s <= m->seq_last) m->backwards++;
        else {
            m->missing += s - m->seq_last - 1;
            m->seq_last = s;
        }
        if (toff >= 0) {
            int64_t t = cp56_ms(p + toff);
            if (t >= 0) {
                int64_t l = now_ms - t - LAT_MIN;
                if (l < 0) l = 0;
                if (l >= LAT_BINS) l = LAT_BINS - 1;
                lat_hist[l]++;
                lat_n++;
            }
        }
        p += esize;
    }
}

static void on_readable(master_t *m, int index, double now) {
    int64_t now_ms = wall_ms();
    for (;;) {
        ssize_t r = recv(m->fd, m->buf + m->len, sizeof m->buf - m->len, 0);
        if (r == 0) { fail(m, "closed by the outstation"); return; }
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            fail(m, "recv failed");
            return;
        }
        m->len += (size_t)r;
        m->t_last_rx = now;
        size_t off = 0;
        while (m->len - off >= 2) {
            const uint8_t *f = m->buf + off;
            size_t n = (size_t)f[1] + 2;
            if (f[0] != 0x68 || n < 6) { fail(m, "framing error"); return; }
            if (m->len - off < n) break;
            if ((f[2] & 1) == 0) {
                uint16_t ns = (uint16_t)((f[2] | (f[3] << 8)) >> 1);
                if (ns != m->vr) m->seq_errors++;
                m->vr = (ns + 1) & 0x7FFF;
                m->unacked++;
                on_asdu(m, f + 6, (int)n - 6, now, now_ms);
                if (m->st == FAILED) return;
            } else if ((f[2] & 3) == 3) {
                if (f[2] == 0x43) send_u(m, 0x83);
                else if (f[2] == 0x0B && m->st == STARTING) {
                    m->st = INTERROGATING;
                    send_gi(m, o_ca_first + index);
                }
            }
            off += n;
        }
        memmove(m->buf, m->buf + off, m->len - off);
        m->len -= off;
        if (m->unacked >= o_w) send_s(m);
        if (m->st == FAILED) return;
    }
}

static int start_master(master_t *m, int index, int ep) {
    m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (m->fd < 0) { m->st = CONNECTING; in_flight++; fail(m, "socket failed (ulimit -n?)"); return -1; }
    int one = 1;
    setsockopt(m->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in src = {0}, dst = {0};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((unsigned)(index / 250) << 8) | (unsigned)(index % 250 + 1));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)o_port);
    inet_pton(AF_INET, o_host, &dst.sin_addr);
    m->st = CONNECTING;
    in_flight++;
    m->t_start = mono();
    if (bind(m->fd, (struct sockaddr *)&src, sizeof src) != 0) { fail(m, "bind failed"); return -1; }
    if (connect(m->fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
        fail(m, "connect failed");
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)index};
    epoll_ctl(ep, EPOLL_CTL_ADD, m->fd, &ev);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: manymasters --port P [--count 1000] [--ca-first 1] [--expect-gi K] [--w 8] [--idle-ack-ms 50]\n"
                    "                   [--concurrency 64] [--gi-timeout 120] [--host 127.0.0.1]\n");
    exit(2);
}

/* Failure reasons as a JSON object {"reason": count, ...}. */
static void print_failures(void) {
    printf(",\"failures\":{");
    int first = 1;
    for (int i = 0; i < o_count; i++) {
        const char *why = masters[i].failure;
        if (!why) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = masters[j].failure && !strcmp(masters[j].failure, why);
        if (seen) continue;
        int n = 0;
        for (int j = i; j < o_count; j++) n += masters[j].failure && !strcmp(masters[j].failure, why);
        printf("%s\"%s\":%d", first ? "" : ",", why, n);
        first = 0;
    }
    printf("}");
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--port")) o_port = atoi(NEXT());
        else if (!strcmp(a, "--host")) o_host = NEXT();
        else if (!strcmp(a, "--count")) o_count = atoi(NEXT());
        else if (!strcmp(a, "--ca-first")) o_ca_first = atoi(NEXT());
        else if (!strcmp(a, "--expect-gi")) o_expect_gi = atol(NEXT());
        else if (!strcmp(a, "--w")) o_w = atoi(NEXT());
        else if (!strcmp(a, "--idle-ack-ms")) o_idle_ack_ms = atoi(NEXT());
        else if (!strcmp(a, "--concurrency")) o_concurrency = atoi(NEXT());
        else if (!strcmp(a, "--gi-timeout")) o_gi_timeout = atof(NEXT());
        else usage();
    }
    if (o_port <= 0 || o_count < 1 || o_count > 62500 || o_w < 1 || o_concurrency < 1) usage();

    /* one descriptor per master, plus a few */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)o_count + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)o_count + 64 ? rl.rlim_max : (rlim_t)o_count + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)o_count + 64)
            fprintf(stderr, "manymasters: ulimit -n is %lu, below %d masters + 64\n", (unsigned long)rl.rlim_cur, o_count);
    }
    masters = calloc((size_t)o_count, sizeof *masters);
    int ep = epoll_create1(0);
    if (!masters || ep < 0) { perror("manymasters"); return 1; }
    for (int i = 0; i < o_count; i++) masters[i].fd = -1;
    struct epoll_event in_ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in_ev);

    double t0 = mono(), cpu0 = cpu_self(), t_gi_done = 0, t_last_sweep = t0;
    int next = 0, gi_reported = 0, stop = 0;
    struct epoll_event evs[256];
    while (!stop) {
        while (next < o_count && in_flight < o_concurrency && !gi_reported) start_master(&masters[next], next, ep), next++;
        int n = epoll_wait(ep, evs, 256, 10);
        double now = mono();
        for (int e = 0; e < n; e++) {
            uint32_t idx = evs[e].data.u32;
            if (idx == UINT32_MAX) { /* stdin: the bench says the events are over */
                char line[64];
                if (read(0, line, sizeof line) >= 0) stop = 1;
                epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
                continue;
            }
            master_t *m = &masters[idx];
            if (m->st == FAILED) continue;
            if (m->st == CONNECTING && (evs[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) { fail(m, err == ECONNREFUSED ? "connection refused" : "connect failed"); continue; }
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};
                epoll_ctl(ep, EPOLL_CTL_MOD, m->fd, &ev);
                m->st = STARTING;
                m->t_last_rx = now;
                send_u(m, 0x07);
            }
            if (m->st != FAILED && (evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(m, (int)idx, now);
        }
        if (now - t_last_sweep >= 0.01) { /* idle acknowledgements and the GI deadline */
            t_last_sweep = now;
            for (int i = 0; i < next; i++) {
                master_t *m = &masters[i];
                if (m->st == FAILED) continue;
                if (m->unacked && now - m->t_last_rx >= o_idle_ack_ms / 1000.0) send_s(m);
                if (!gi_reported && m->st != RECEIVING && m->st != FAILED && now - m->t_start > o_gi_timeout)
                    fail(m, m->st == CONNECTING ? "connect timed out" : m->st == STARTING ? "no STARTDT con" : "no ACTTERM");
            }
        }
        if (!gi_reported && next == o_count && in_flight == 0) {
            gi_reported = 1;
            t_gi_done = now;
            int complete = 0, short_gi = 0;
            long objects = 0;
            double slowest = 0;
            for (int i = 0; i < o_count; i++) {
                master_t *m = &masters[i];
                if (m->st != RECEIVING) continue;
                objects += m->gi_objects;
                if (o_expect_gi >= 0 && m->gi_objects < o_expect_gi) short_gi++;
                else complete++;
                if (m->t_gi_end - m->t_start > slowest) slowest = m->t_gi_end - m->t_start;
            }
            printf("{\"metric\":\"masters_gi\",\"masters\":%d,\"gi_complete\":%d,\"gi_short\":%d,\"gi_failed\":%d,"
                   "\"gi_objects\":%ld,\"expected_per_master\":%ld,\"seconds\":%.3f,\"slowest_master_s\":%.3f,"
                   "\"client_cpu_pct\":%.1f",
                   o_count, complete, short_gi, o_count - complete - short_gi, objects, o_expect_gi, now - t0, slowest,
                   100 * (cpu_self() - cpu0) / (now - t0));
            print_failures();
            printf("}\n");
            fflush(stdout);
        }
    }

    /* what is still in flight arrives within the idle-ack period */
    double t_end = mono() + 0.2;
    while (mono() < t_end) {
        int n = epoll_wait(ep, evs, 256, 20);
        for (int e = 0; e < n; e++)
            if (evs[e].data.u32 != UINT32_MAX && masters[evs[e].data.u32].st == RECEIVING)
                on_readable(&masters[evs[e].data.u32], (int)evs[e].data.u32, mono());
    }
    long events = 0, missing = 0, backwards = 0, open = 0, seq_errors = 0, other = 0;
    for (int i = 0; i < o_count; i++) {
        master_t *m = &masters[i];
        events += m->events;
        missing += m->missing;
        backwards += m->backwards;
        seq_errors += m->seq_errors;
        other += m->other_frames;
        open += m->st == RECEIVING;
    }
    double now = mono();
    printf("{\"metric\":\"masters_events\",\"masters\":%d,\"still_connected\":%ld,\"events\":%ld,\"missing\":%ld,"
           "\"backwards\":%ld,\"link_seq_errors\":%ld,\"other_frames\":%ld,\"events_window_s\":%.3f",
           o_count, open, events, missing, backwards, seq_errors, other, t_gi_done ? now - t_gi_done : 0.0);
    if (lat_n)
        printf(",\"latency_ms_p50\":%.0f,\"latency_ms_p99\":%.0f,\"latency_ms_max\":%.0f", lat_pct(50), lat_pct(99),
               lat_pct(100));
    if (other_type >= 0) printf(",\"first_other_type\":%d,\"first_other_cot\":%d", other_type, other_cot);
    print_failures();
    /* per master, in master order: events, first and last sequence value (-1: none), missing, backwards */
    const char *names[] = {"per_master_events", "per_master_first", "per_master_last", "per_master_missing",
                           "per_master_backwards"};
    for (int k = 0; k < 5; k++) {
        printf(",\"%s\":[", names[k]);
        for (int i = 0; i < o_count; i++) {
            master_t *m = &masters[i];
            long long v = k == 0 ? m->events : k == 1 ? (m->events ? m->seq_first : -1)
                        : k == 2 ? (m->events ? m->seq_last : -1) : k == 3 ? m->missing : m->backwards;
            printf("%s%lld", i ? "," : "", v);
        }
        printf("]");
    }
    printf("}\n");
    fflush(stdout);
    for (int i = 0; i < o_count; i++)
        if (masters[i].fd >= 0) close(masters[i].fd);
    return 0;
}
