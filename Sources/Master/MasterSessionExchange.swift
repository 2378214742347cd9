public import IEC104

extension MasterSession {
    /// Sends `request` and waits up to `timeout` for its ACTCON (or a negative reply);
    /// other I-frames go to `other`.
    public func activate(_ request: [UInt8], timeout: Duration,
                         other: (APDU) -> Void = { _ in }) throws(MasterError) -> Confirmation? {
        try send(request)
        return try awaitConfirmation(to: request, timeout: timeout, other: other) { _ in true }
    }

    /// Waits for the first reply to `request` that `accept` takes.
    public func awaitConfirmation(to request: [UInt8], timeout: Duration, other: (APDU) -> Void = { _ in },
                                  accept: (Confirmation) -> Bool) throws(MasterError) -> Confirmation? {
        let deadline = monotonicNow() + timeout
        while let apdu = try next(until: deadline) {
            if let confirmation = Confirmation.match(apdu.asdu, request: request), accept(confirmation) {
                return confirmation
            }
            other(apdu)
        }
        return nil
    }
}
