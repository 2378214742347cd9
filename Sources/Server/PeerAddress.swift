import NIOCore
import Outstation

extension IPAddress {
    /// The peer's address straight from the socket address the kernel gave, without formatting and parsing text:
    /// every accepted connection needs it for the address filters.
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            self.init(ipv4: UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            var address = v6.address.sin6_addr
            let (high, low) = withUnsafeBytes(of: &address) { bytes in
                (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
            self.init(high: UInt64(bigEndian: high), low: UInt64(bigEndian: low))
        case .unixDomainSocket:
            return nil
        }
    }
}
