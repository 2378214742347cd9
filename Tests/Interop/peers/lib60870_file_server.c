/* lib60870_file_server.c - an IEC 60870-5-104 outstation on lib60870-C's file service
 * (CS101_FileServer plugin), the peer of rtu104ctl's file-transfer master in the interop tests.
 * Ours; only the library is lib60870's (built on demand by scripts/build-lib60870-file-server,
 * never vendored).
 *
 * Usage: lib60870_file_server PORT DIRECTORY [CA] [FIRST_IOA] [SECTION_SIZE]
 *   Listens on 127.0.0.1:PORT. Serves every regular file of DIRECTORY whose name does not start with
 *   '.', as found at start, sorted by name: the first takes IOA FIRST_IOA (default 30001), the next
 *   FIRST_IOA + 1, and so on, all on common address CA (default 1), NOF 1 (transparent file).
 *   A file is cut into sections of SECTION_SIZE octets (default 16384; 1 .. 16777215), the last one
 *   shorter; an empty file has no section (getSectionSize is 0, which lib60870 offers as a section
 *   of length 0). A file that would need more than 255 sections, or is larger than 16777215 octets,
 *   is left out with a warning. The high-priority queue holds a whole section's segments (lib60870
   drops the segments that do not fit into it while the k window is full).
 *   The IOAs FIRST_IOA .. FIRST_IOA + 99 form the file area: select file for an IOA of the area with
 *   no file is answered "file not ready" (F_FR_NA_1 with FRQ bit 8 set); an IOA outside it gets the
 *   request back with COT 47 (unknown IOA), an unknown CA COT 46 (the library does both).
 *   File data is read with pread at transfer time; a file is opened (and its size taken) at select
 *   file, never buffered whole.
 *   C_IC_NA_1 (station, QOI 20) for CA: ACTCON, three points (M_ME_NB_1 IOA 1 and 2, M_SP_NA_1 IOA 10),
 *   ACTTERM; any other QOI: negative ACTCON. Every 200 ms an M_ME_NB_1 IOA 1 with COT 1 (periodic)
 *   and a running value, so that a master sees events during a transfer.
 *   Each connection is its own redundancy group (up to 4 connections). Prints "ready" on stdout once
 *   listening; SIGTERM or SIGINT stop it with exit status 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cs101_file_service.h"
#include "cs104_slave.h"
#include "hal_time.h"

#define AREA_SIZE 100
#define MAX_SECTIONS 255
#define MAX_LOF 16777215L
#define PERIOD_MS 200

struct served_file {
    struct sCS101_IFileProvider provider; /* what the file service sees; provider.object points back here */
    char *path;
    char *name;
    int fd;         /* open from select file on, -1 before */
    long size;      /* taken at select file */
    uint64_t mtime_ms;
};

static struct served_file *g_files;
static int g_count;
static int g_ca = 1;
static int g_first_ioa = 30001;
static long g_section_size = 16384;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t g_stop;

static void on_signal(int sig) { (void)sig; g_stop = 1; }

static struct served_file *file_of(CS101_IFileProvider provider) { return (struct served_file *)provider->object; }

static uint64_t get_file_date(CS101_IFileProvider self) { return file_of(self)->mtime_ms; }

static int get_file_size(CS101_IFileProvider self)
{
    pthread_mutex_lock(&g_lock);
    long size = file_of(self)->size;
    pthread_mutex_unlock(&g_lock);
    return (int)size;
}

/* Section n counts from 0 here (the library asks for NOS - 1); 0 = no such section. */
static int get_section_size(CS101_IFileProvider self, int n)
{
    long size = get_file_size(self);
    if (n < 0 || size == 0) return 0;
    long start = (long)n * g_section_size;
    if (start >= size) return 0;
    long rest = size - start;
    return (int)(rest < g_section_size ? rest : g_section_size);
}

static bool get_segment_data(CS101_IFileProvider self, int n, int offset, int size, uint8_t *data)
{
    struct served_file *f = file_of(self);
    pthread_mutex_lock(&g_lock);
    int fd = f->fd;
    pthread_mutex_unlock(&g_lock);
    if (fd < 0 || n < 0 || offset < 0 || size < 0) return false;
    off_t at = (off_t)n * g_section_size + offset;
    int done = 0;
    while (done < size) {
        ssize_t got = pread(fd, data + done, (size_t)(size - done), at + done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            fprintf(stderr, "lib60870_file_server: %s: read at %lld: %s\n", f->name, (long long)(at + done),
                    got < 0 ? strerror(errno) : "end of file (file shrank?)");
            return false;
        }
        done += (int)got;
    }
    return true;
}

static void transfer_complete(CS101_IFileProvider self, bool success)
{
    struct served_file *f = file_of(self);
    fprintf(stderr, "lib60870_file_server: %d:%d %s: transfer %s\n", g_ca, self->ioa, f->name,
            success ? "acknowledged" : "refused by the master");
}

/* Select file: opens the file and takes its size now. errCode 1 = unknown CA, 2 = unknown IOA,
 * anything else with NULL = file not ready. */
static CS101_IFileProvider get_file(void *parameter, int ca, int ioa, uint16_t nof, int *err)
{
    (void)parameter;
    (void)nof; /* every file is NOF 1; a master may ask with NOF 0 (any) */
    if (ca != g_ca) { *err = 1; return NULL; }
    if (ioa < g_first_ioa || ioa >= g_first_ioa + AREA_SIZE) { *err = 2; return NULL; }
    int index = ioa - g_first_ioa;
    if (index >= g_count) { *err = 4; return NULL; }

    struct served_file *f = &g_files[index];
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > MAX_LOF) {
        fprintf(stderr, "lib60870_file_server: %s: cannot serve: %s\n", f->path,
                fd < 0 ? strerror(errno) : "too large now");
        if (fd >= 0) close(fd);
        *err = 4;
        return NULL;
    }
    pthread_mutex_lock(&g_lock);
    if (f->fd >= 0) close(f->fd);
    f->fd = fd;
    f->size = (long)st.st_size;
    f->mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000u + (uint64_t)st.st_mtim.tv_nsec / 1000000u;
    pthread_mutex_unlock(&g_lock);
    fprintf(stderr, "lib60870_file_server: select %d:%d %s (%ld octets)\n", ca, ioa, f->name, (long)st.st_size);
    *err = 0;
    return &f->provider;
}

/* For call directory; lib60870 2.4.1 never asks (its call directory is a TODO), kept for a later version. */
static CS101_IFileProvider get_next_file(void *parameter, CS101_IFileProvider after)
{
    (void)parameter;
    if (g_count == 0) return NULL;
    if (after == NULL) return &g_files[0].provider;
    int next = after->ioa - g_first_ioa + 1;
    return next < g_count ? &g_files[next].provider : NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct served_file *)a)->name, ((const struct served_file *)b)->name);
}

static char *joined(const char *directory, const char *name)
{
    size_t length = strlen(directory) + 1 + strlen(name) + 1;
    char *path = malloc(length);
    if (path) snprintf(path, length, "%s/%s", directory, name);
    return path;
}

static int scan(const char *directory)
{
    DIR *dir = opendir(directory);
    if (!dir) {
        fprintf(stderr, "lib60870_file_server: %s: %s\n", directory, strerror(errno));
        return -1;
    }
    int capacity = 16;
    g_files = calloc((size_t)capacity, sizeof *g_files);
    struct dirent *entry;
    while (g_files && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char *path = joined(directory, entry->d_name);
        struct stat st;
        if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { free(path); continue; }
        long sections = (long)((st.st_size + g_section_size - 1) / g_section_size);
        if (st.st_size > MAX_LOF || sections > MAX_SECTIONS) {
            fprintf(stderr, "lib60870_file_server: %s: %lld octets do not fit into 255 sections of %ld "
                    "(or LOF's 3 octets); left out\n", path, (long long)st.st_size, g_section_size);
            free(path);
            continue;
        }
        if (g_count == AREA_SIZE) {
            fprintf(stderr, "lib60870_file_server: more than %d files; %s left out\n", AREA_SIZE, path);
            free(path);
            continue;
        }
        if (g_count == capacity) {
            capacity *= 2;
            struct served_file *more = realloc(g_files, (size_t)capacity * sizeof *g_files);
            if (!more) { free(path); break; }
            g_files = more;
        }
        struct served_file *f = &g_files[g_count++];
        memset(f, 0, sizeof *f);
        f->path = path;
        f->name = strrchr(path, '/') + 1;
        f->fd = -1;
        f->size = (long)st.st_size;
        f->mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000u + (uint64_t)st.st_mtim.tv_nsec / 1000000u;
    }
    closedir(dir);
    if (!g_files) return -1;
    qsort(g_files, (size_t)g_count, sizeof *g_files, by_name);
    for (int i = 0; i < g_count; i++) { /* providers after the sort: object must point at the final place */
        struct served_file *f = &g_files[i];
        f->provider.ca = g_ca;
        f->provider.ioa = g_first_ioa + i;
        f->provider.nof = CS101_NOF_TRANSPARENT_FILE;
        f->provider.object = f;
        f->provider.getFileDate = get_file_date;
        f->provider.getFileSize = get_file_size;
        f->provider.getSectionSize = get_section_size;
        f->provider.getSegmentData = get_segment_data;
        f->provider.transferComplete = transfer_complete;
        fprintf(stderr, "lib60870_file_server: %d:%d %s (%ld octets)\n", g_ca, f->provider.ioa, f->name, f->size);
    }
    return 0;
}

static int g_periodic_value; /* under g_lock */

static bool interrogation_handler(void *parameter, IMasterConnection con, CS101_ASDU request, uint8_t qoi)
{
    (void)parameter;
    if (CS101_ASDU_getCA(request) != g_ca) return false;
    if (CS101_ASDU_getCOT(request) != CS101_COT_ACTIVATION || qoi != IEC60870_QOI_STATION) {
        IMasterConnection_sendACT_CON(con, request, true);
        return true;
    }
    IMasterConnection_sendACT_CON(con, request, false);
    CS101_AppLayerParameters alp = IMasterConnection_getApplicationLayerParameters(con);
    sCS101_StaticASDU buffer;
    uint8_t object[64];
    CS101_ASDU reply = CS101_ASDU_initializeStatic(&buffer, alp, false, CS101_COT_INTERROGATED_BY_STATION,
                                                   CS101_ASDU_getOA(request), g_ca, false, false);
    pthread_mutex_lock(&g_lock);
    int value = g_periodic_value;
    pthread_mutex_unlock(&g_lock);
    CS101_ASDU_addInformationObject(reply, (InformationObject)MeasuredValueScaled_create(
        (MeasuredValueScaled)object, 1, value, IEC60870_QUALITY_GOOD));
    CS101_ASDU_addInformationObject(reply, (InformationObject)MeasuredValueScaled_create(
        (MeasuredValueScaled)object, 2, g_count, IEC60870_QUALITY_GOOD));
    IMasterConnection_sendASDU(con, reply);
    reply = CS101_ASDU_initializeStatic(&buffer, alp, false, CS101_COT_INTERROGATED_BY_STATION,
                                        CS101_ASDU_getOA(request), g_ca, false, false);
    CS101_ASDU_addInformationObject(reply, (InformationObject)SinglePointInformation_create(
        (SinglePointInformation)object, 10, true, IEC60870_QUALITY_GOOD));
    IMasterConnection_sendASDU(con, reply);
    IMasterConnection_sendACT_TERM(con, request);
    return true;
}

static bool ca_allowed(void *parameter, int ca) { (void)parameter; return ca == g_ca; }

static long number(const char *text, long low, long high, const char *what)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || *end || end == text || value < low || value > high) {
        fprintf(stderr, "lib60870_file_server: %s must be %ld..%ld, not %s\n", what, low, high, text);
        exit(2);
    }
    return value;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR && !g_stop) {}
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 6) {
        fprintf(stderr, "usage: %s PORT DIRECTORY [CA] [FIRST_IOA] [SECTION_SIZE]\n", argv[0]);
        return 2;
    }
    int port = (int)number(argv[1], 1, 65535, "PORT");
    if (argc > 3) g_ca = (int)number(argv[3], 1, 65534, "CA");
    if (argc > 4) g_first_ioa = (int)number(argv[4], 1, 16777215 - AREA_SIZE, "FIRST_IOA");
    if (argc > 5) g_section_size = number(argv[5], 1, MAX_LOF, "SECTION_SIZE");
    if (scan(argv[2]) != 0) return 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* lib60870's file service sends a segment at every turn of its task and puts what the k window does
     * not take into the connection's high-priority queue; a segment that does not fit is dropped without
     * a word, and the section's length and checksum come out wrong. So the queue takes a whole section
     * (segments of at most 236 octets, counted at 200 for margin): 100 ASDUs up to sections of 16384. */
    long queue = g_section_size / 200 + 16;
    if (queue < 100) queue = 100;
    CS104_Slave slave = CS104_Slave_create(100, (int)queue);
    CS104_Slave_setLocalAddress(slave, "127.0.0.1");
    CS104_Slave_setLocalPort(slave, port);
    CS104_Slave_setServerMode(slave, CS104_MODE_CONNECTION_IS_REDUNDANCY_GROUP);
    CS104_Slave_setMaxOpenConnections(slave, 4);
    CS104_Slave_setAllowedCAHandler(slave, ca_allowed, NULL);
    CS104_Slave_setInterrogationHandler(slave, interrogation_handler, NULL);

    CS101_AppLayerParameters alp = CS104_Slave_getAppLayerParameters(slave);
    CS101_FileServer files = CS101_FileServer_create(alp);
    struct sCS101_FilesAvailable available = { get_next_file, get_file, NULL };
    CS101_FileServer_setFilesAvailableIfc(files, &available);
    CS104_Slave_addPlugin(slave, CS101_FileServer_getSlavePlugin(files));

    CS104_Slave_start(slave);
    if (!CS104_Slave_isRunning(slave)) {
        fprintf(stderr, "lib60870_file_server: cannot listen on 127.0.0.1:%d\n", port);
        CS104_Slave_destroy(slave);
        CS101_FileServer_destroy(files);
        return 1;
    }
    fprintf(stderr, "lib60870_file_server: 127.0.0.1:%d, CA %d, %d file(s) from IOA %d, sections of %ld octets\n",
            port, g_ca, g_count, g_first_ioa, g_section_size);
    printf("ready\n");
    fflush(stdout);

    uint64_t next = Hal_getTimeInMs() + PERIOD_MS;
    while (!g_stop) {
        if (Hal_getTimeInMs() >= next) {
            next += PERIOD_MS;
            sCS101_StaticASDU buffer;
            uint8_t object[64];
            pthread_mutex_lock(&g_lock);
            int value = ++g_periodic_value;
            pthread_mutex_unlock(&g_lock);
            CS101_ASDU event = CS101_ASDU_initializeStatic(&buffer, alp, false, CS101_COT_PERIODIC, 0, g_ca, false, false);
            CS101_ASDU_addInformationObject(event, (InformationObject)MeasuredValueScaled_create(
                (MeasuredValueScaled)object, 1, value, IEC60870_QUALITY_GOOD));
            CS104_Slave_enqueueASDU(slave, event);
        }
        sleep_ms(10);
    }

    CS104_Slave_stop(slave);
    CS104_Slave_destroy(slave);
    CS101_FileServer_destroy(files);
    for (int i = 0; i < g_count; i++) {
        if (g_files[i].fd >= 0) close(g_files[i].fd);
        free(g_files[i].path);
    }
    free(g_files);
    fprintf(stderr, "lib60870_file_server: stopped\n");
    return 0;
}
