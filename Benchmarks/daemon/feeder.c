/* feeder.c - writes point updates to rtu104d's control socket at a target rate.
 *
 * Build:  gcc -O2 -o feeder feeder.c
 * Usage:  feeder --socket PATH --rate R --seconds S [--ca 47] [--ca-count C] [--ioa-first 1] [--points P]
 *                [--seq-start N] [--tick-us U] [--max-batch B] [--max-outstanding L] [--no-time]
 *                [--deadline] [--mark M]
 *
 * Event s (s = 0, 1, ...) is due at t0 + s/R. Every tick (default 1000 us) the feeder sends the
 * events that are due as `set` lines of at most B points:
 *   {"op":"set","points":[{"ca":47,"ioa":I,"value":SEQ,"time":MS},...]}\n
 * IOA cycles through ioa-first .. ioa-first+P-1; the value is the sequence number seq-start + s
 * (a whole-number float, which fastmaster reads as a generator sequence number, so gaps = loss);
 * "time" is the wall-clock millisecond at which the event became due, so time spent queued in the
 * feeder, the control socket or the daemon counts as latency (as in limitserver's generator).
 * --ca-count C spreads the events over C common addresses ca .. ca+C-1 (event s goes to ca + s % C,
 * the `masters` part: one station per CA); the IOA then cycles per CA and the value is that CA's own
 * sequence number seq-start + s / C, so a master that sees one CA can still count its gaps.
 * --no-time leaves "time" out and the daemon stamps the event when it applies it.
 *
 * Replies ({"ok":true,"events":N,...}) are read as they come; at most L lines may be unanswered
 * (back-pressure: when the daemon falls behind the feeder falls behind, and reports it).
 * Prints one JSON line at the end: offered/sent/achieved rate, replies, errors, events the daemon
 * reported, the largest backlog in points and the feeder's own CPU time.
 *
 * Overload runs: without --deadline the feeder sends all R*S events however long that takes; with
 * it, sending stops at t0 + S and what was still due is reported as "unsent" (so a run at 4x what
 * the daemon takes lasts S seconds, not 4S). --mark M records how many events were sent by t0 + M
 * and the backlog then ("achieved_at_mark_per_s", "backlog_at_mark_points", "behind_at_mark_s"):
 * set M to the end of the master's measuring window, so that what the feeder sends after the
 * master has left (when nothing holds it back any more) does not count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *o_socket = NULL;
static double o_rate = 10000, o_seconds = 5;
static long o_ca = 47, o_ca_count = 1, o_ioa_first = 1, o_points = 1000, o_seq_start = 1;
static long o_tick_us = 1000, o_max_batch = 2000, o_max_outstanding = 64;
static int o_no_time = 0, o_deadline = 0;
static double o_mark = 0;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double cpu_self(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* outgoing bytes not yet written */
static char *obuf;
static size_t olen, ocap;
/* incoming reply bytes */
static char ibuf[1 << 16];
static size_t ilen;
static long replies, replies_ok, replies_err, events_reported, lines_sent;
static char first_error[256];

static void read_replies(int fd) {
    for (;;) {
        ssize_t r = recv(fd, ibuf + ilen, sizeof ibuf - ilen - 1, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            fprintf(stderr, "feeder: recv: %s\n", strerror(errno));
            exit(1);
        }
        if (r == 0) {
            fprintf(stderr, "feeder: the daemon closed the control socket\n");
            exit(1);
        }
        ilen += (size_t)r;
        ibuf[ilen] = 0;
        char *start = ibuf, *nl;
        while ((nl = memchr(start, '\n', ibuf + ilen - start))) {
            *nl = 0;
            replies++;
            if (strstr(start, "\"ok\":true")) {
                replies_ok++;
                const char *e = strstr(start, "\"events\":");
                if (e) events_reported += atol(e + 9);
            } else {
                replies_err++;
                if (!first_error[0]) snprintf(first_error, sizeof first_error, "%.255s", start);
            }
            start = nl + 1;
        }
        ilen = (size_t)(ibuf + ilen - start);
        memmove(ibuf, start, ilen);
        if (ilen >= sizeof ibuf - 1) { fprintf(stderr, "feeder: reply line too long\n"); exit(1); }
    }
}

static void flush_out(int fd) {
    size_t off = 0;
    while (off < olen) {
        ssize_t w = send(fd, obuf + off, olen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            fprintf(stderr, "feeder: send: %s\n", strerror(errno));
            exit(1);
        }
        off += (size_t)w;
    }
    memmove(obuf, obuf + off, olen - off);
    olen -= off;
}

static void append(const char *s, size_t n) {
    if (olen + n > ocap) {
        while (olen + n > ocap) ocap = ocap ? ocap * 2 : (1 << 20);
        obuf = realloc(obuf, ocap);
        if (!obuf) { perror("realloc"); exit(1); }
    }
    memcpy(obuf + olen, s, n);
    olen += n;
}

static void usage(void) {
    fprintf(stderr, "usage: feeder --socket PATH --rate R --seconds S [--ca 47] [--ca-count C] [--ioa-first 1]\n"
                    "              [--points P] [--seq-start N] [--tick-us U] [--max-batch B] [--max-outstanding L] [--no-time]\n"
                    "              [--deadline] [--mark M]\n");
    exit(2);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--socket")) o_socket = NEXT();
        else if (!strcmp(a, "--rate")) o_rate = atof(NEXT());
        else if (!strcmp(a, "--seconds")) o_seconds = atof(NEXT());
        else if (!strcmp(a, "--ca")) o_ca = atol(NEXT());
        else if (!strcmp(a, "--ca-count")) o_ca_count = atol(NEXT());
        else if (!strcmp(a, "--ioa-first")) o_ioa_first = atol(NEXT());
        else if (!strcmp(a, "--points")) o_points = atol(NEXT());
        else if (!strcmp(a, "--seq-start")) o_seq_start = atol(NEXT());
        else if (!strcmp(a, "--tick-us")) o_tick_us = atol(NEXT());
        else if (!strcmp(a, "--max-batch")) o_max_batch = atol(NEXT());
        else if (!strcmp(a, "--max-outstanding")) o_max_outstanding = atol(NEXT());
        else if (!strcmp(a, "--no-time")) o_no_time = 1;
        else if (!strcmp(a, "--deadline")) o_deadline = 1;
        else if (!strcmp(a, "--mark")) o_mark = atof(NEXT());
        else usage();
    }
    if (!o_socket || o_rate <= 0 || o_seconds <= 0 || o_points < 1 || o_ca_count < 1 || o_max_batch < 1 || o_tick_us < 1) usage();
    if (o_max_batch > 100000) o_max_batch = 100000;
    long total = (long)(o_rate * o_seconds);
    /* with --deadline an overload run sends only what the daemon takes: let it start, and stop it (reported as
       "seq_cap_reached") only if it really reaches the end of the sequence space */
    int seq_capped = 0;
    if (o_deadline && o_seq_start >= 0 && o_seq_start + total >= 16777216) {
        total = 16777215 - o_seq_start;
        seq_capped = 1;
    }
    if (o_seq_start < 0 || total < 1 || o_seq_start + total >= 16777216) {
        fprintf(stderr, "feeder: sequence numbers must stay below 2^24 (exact in a float)\n");
        return 2;
    }

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {0};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", o_socket);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "feeder: connect %s: %s\n", o_socket, strerror(errno));
        return 1;
    }
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);

    char line[160];
    long sent = 0, max_backlog = 0;
    long mark_sent = -1, mark_backlog = 0;
    double cpu0 = cpu_self(), t0 = mono(), w0 = wall();
    double t_last_sent = t0;
    while (sent < total) {
        double now = mono();
        if (o_deadline && now - t0 >= o_seconds) break;
        long due = (long)((now - t0) * o_rate) + 1;
        if (due > total) due = total;
        if (due - sent > max_backlog) max_backlog = due - sent;
        if (o_mark > 0 && mark_sent < 0 && now - t0 >= o_mark) {
            mark_sent = sent;
            mark_backlog = due - sent;
        }
        while (sent < due && lines_sent - replies < o_max_outstanding) {
            long n = due - sent;
            if (n > o_max_batch) n = o_max_batch;
            append("{\"op\":\"set\",\"points\":[", 22);
            for (long j = 0; j < n; j++) {
                long s = sent + j;
                long ca = o_ca + s % o_ca_count, per_ca = s / o_ca_count;
                long ioa = o_ioa_first + per_ca % o_points;
                int len;
                if (o_no_time)
                    len = snprintf(line, sizeof line, "%s{\"ca\":%ld,\"ioa\":%ld,\"value\":%ld}", j ? "," : "", o_ca, ioa,
                                   o_seq_start + s);
                else {
                    long long due_ms = (long long)((w0 + (double)s / o_rate) * 1000.0);
                    len = snprintf(line, sizeof line, "%s{\"ca\":%ld,\"ioa\":%ld,\"value\":%ld,\"time\":%lld}", j ? "," : "",
                                   ca, ioa, o_seq_start + per_ca, due_ms);
                }
                append(line, (size_t)len);
            }
            append("]}\n", 3);
            sent += n;
            lines_sent++;
            flush_out(fd);
        }
        if (sent == due) t_last_sent = mono();
        /* wait for the next tick, for reply bytes, or for room to write */
        double next = t0 + (double)(sent + 1) / o_rate;
        double tick = now + o_tick_us * 1e-6;
        if (next < tick) next = tick;
        if (o_deadline && next > t0 + o_seconds) next = t0 + o_seconds;
        for (;;) {
            read_replies(fd);
            if (olen) flush_out(fd);
            double left = next - mono();
            if (left <= 0) break;
            struct pollfd pf = {fd, (short)(POLLIN | (olen ? POLLOUT : 0)), 0};
            int ms = (int)(left * 1000);
            if (ms < 1) {
                struct timespec ts = {0, (long)(left * 1e9)};
                nanosleep(&ts, NULL);
                break;
            }
            poll(&pf, 1, ms);
        }
    }
    double t_send_end = mono();
    long unsent = total - sent;
    if (o_mark > 0 && mark_sent < 0) { /* the run ended before the mark */
        mark_sent = sent;
        mark_backlog = unsent;
    }
    /* drain: every line answered, at most 10 s */
    while ((replies < lines_sent || olen) && mono() - t_send_end < 10) {
        struct pollfd pf = {fd, (short)(POLLIN | (olen ? POLLOUT : 0)), 0};
        poll(&pf, 1, 100);
        if (olen) flush_out(fd);
        read_replies(fd);
    }
    double t_end = mono(), cpu1 = cpu_self();
    double span = t_last_sent - t0;
    if (span <= 0) span = t_send_end - t0;
    printf("{\"metric\":\"feeder\",\"offered_per_s\":%.0f,\"seconds\":%.3f,\"sent\":%ld,\"lines\":%ld,"
           "\"achieved_per_s\":%.1f,\"replies\":%ld,\"replies_ok\":%ld,\"replies_error\":%ld,\"events_reported\":%ld,"
           "\"max_backlog_points\":%ld,\"drain_s\":%.3f,\"feeder_cpu_pct\":%.1f,\"time_stamped\":%s",
           o_rate, o_seconds, sent, lines_sent, sent / (t_send_end - t0), replies, replies_ok, replies_err,
           events_reported, max_backlog, t_end - t_send_end, 100 * (cpu1 - cpu0) / (t_end - t0),
           o_no_time ? "false" : "true");
    if (o_deadline) printf(",\"unsent\":%ld,\"behind_at_end_s\":%.3f", unsent, unsent / o_rate);
    if (seq_capped && sent == total) printf(",\"seq_cap_reached\":true");
    if (o_mark > 0) {
        double at = o_mark < t_send_end - t0 ? o_mark : t_send_end - t0;
        printf(",\"mark_s\":%.3f,\"sent_at_mark\":%ld,\"achieved_at_mark_per_s\":%.1f,\"backlog_at_mark_points\":%ld,"
               "\"behind_at_mark_s\":%.3f", at, mark_sent, at > 0 ? mark_sent / at : 0.0, mark_backlog, mark_backlog / o_rate);
    }
    if (first_error[0]) {
        printf(",\"first_error\":\"");
        for (const char *p = first_error; *p; p++) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
        putchar('"');
    }
    printf("}\n");
    close(fd);
    return replies_err || replies < lines_sent ? 1 : 0;
}
