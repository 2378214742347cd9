import NIOCore
import TLS

/// The outbound side: plaintext buffered until the handshake is done, coalesced into records, and the ciphertext
/// the session has for the network.
extension TLSHandler {
    /// Plaintext writes are coalesced into records of up to 16 KiB, then sent as one ciphertext buffer.
    func encryptPendingWrites(context: ChannelHandlerContext) {
        guard flushPending, !pendingWrites.isEmpty else {
            flushPending = false
            return
        }
        flushPending = false
        let writes = pendingWrites
        pendingWrites.removeAll(keepingCapacity: true)
        var batch = context.channel.allocator.buffer(capacity: Self.recordSize)
        do {
            for (buffer, _) in writes {
                var buffer = buffer
                while buffer.readableBytes > 0 {
                    let room = Self.recordSize - batch.readableBytes
                    if room == 0 {
                        try encrypt(&batch)
                        continue
                    }
                    if var slice = buffer.readSlice(length: min(room, buffer.readableBytes)) {
                        batch.writeBuffer(&slice)
                    }
                }
            }
            try encrypt(&batch)
        } catch {
            for (_, promise) in writes { promise?.fail(error) }
            onEvent(.failed(error))
            context.close(promise: nil)
            return
        }
        let promises = writes.compactMap(\.1)
        var combined: EventLoopPromise<Void>?
        if !promises.isEmpty {
            let promise = context.eventLoop.makePromise(of: Void.self)
            for each in promises { promise.futureResult.cascade(to: each) }
            combined = promise
        }
        sendCiphertext(context: context, promise: combined, flush: true)
    }

    func encrypt(_ batch: inout ByteBuffer) throws(TLSError) {
        guard batch.readableBytes > 0 else { return }
        var failure: TLSError?
        batch.withUnsafeReadableBytes { bytes in
            do throws(TLSError) { try session.write(bytes) } catch { failure = error }
        }
        batch.clear()
        if let failure { throw failure }
    }

    func sendCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        let pending = session.pendingCiphertext
        guard pending > 0 else {
            promise?.succeed(())
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { session.takeCiphertext(into: $0) }
        context.write(wrapOutboundOut(buffer), promise: promise)
        if flush { context.flush() }
    }

    func failPendingWrites(_ error: Error) {
        let writes = pendingWrites
        pendingWrites.removeAll()
        for (_, promise) in writes { promise?.fail(error) }
    }
}
