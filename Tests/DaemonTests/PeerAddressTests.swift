import NIOCore
import Outstation
@testable import Server
import Testing

@Suite("A peer's address from its socket address is the address its text names")
struct PeerAddressTests {
    @Test(arguments: ["127.1.3.250", "0.0.0.0", "255.255.255.255", "10.20.30.40"])
    func ipv4(_ text: String) throws {
        let socket = try SocketAddress(ipAddress: text, port: 2404)
        #expect(IPAddress(socket) == IPAddress(text))
        #expect(IPAddress(socket)?.ipv4 != nil)
    }

    @Test(arguments: ["::1", "fe80::1:2:3:4", "2001:db8::ff00:42:8329", "::ffff:192.0.2.7", "1:2:3:4:5:6:7:8", "::"])
    func ipv6(_ text: String) throws {
        let socket = try SocketAddress(ipAddress: text, port: 2404)
        #expect(IPAddress(socket) == IPAddress(text))
    }

    @Test func anIPv4MasterOnADualStackListenerMatchesItsIPv4Filter() throws {
        let mapped = try SocketAddress(ipAddress: "::ffff:127.1.0.1", port: 40000)
        let plain = try SocketAddress(ipAddress: "127.1.0.1", port: 40000)
        #expect(IPAddress(mapped) == IPAddress(plain))
    }

    @Test func aUnixSocketHasNoIPAddress() throws {
        #expect(IPAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x")) == nil)
    }
}
