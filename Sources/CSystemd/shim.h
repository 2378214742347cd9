#ifndef RTU104D_CSYSTEMD_SHIM_H
#define RTU104D_CSYSTEMD_SHIM_H

// libsystemd for rtu104d: sd_notify, sd_watchdog_enabled and the journal's native protocol.
// Variadic functions (sd_notifyf, sd_journal_send) do not import into Swift; the daemon uses
// the non-variadic forms (sd_notify with a preformatted state, sd_journal_sendv with an iovec array)
// through the wrappers below, which also keep `unset_environment` at 0 so that child processes
// (handler scripts) never inherit a surprise.

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
// Without this, sd_journal_sendv is a macro that appends CODE_FILE/CODE_LINE/CODE_FUNC of this header;
// the log handler sends the Swift caller's location itself.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/// Sends `state` (newline-separated KEY=VALUE assignments) to $NOTIFY_SOCKET.
/// Returns > 0 when sent, 0 when NOTIFY_SOCKET is unset, a negative errno on failure.
static inline int rtu104d_sd_notify(const char *state) {
    return sd_notify(0, state);
}

/// The watchdog interval in microseconds when the service manager expects keep-alive pings
/// for this process (WATCHDOG_USEC set and WATCHDOG_PID unset or ours), else 0.
static inline uint64_t rtu104d_sd_watchdog_usec(void) {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) {
        return usec;
    }
    return 0;
}

/// Writes one journal entry made of `count` "FIELD=value" iovecs. Returns 0 or a negative errno.
static inline int rtu104d_sd_journal_sendv(const struct iovec *fields, int count) {
    return sd_journal_sendv(fields, count);
}

#endif
