import NIOCore
import Testing
import TestSupport
@testable import Monitoring

/// Reads one HTTP response: the head, then as many body bytes as its content-length says.
private func response(_ client: LoopbackClient) -> (status: Int, headers: [String: String], body: String, closed: Bool) {
    var (text, closed) = client.receive(until: "\r\n\r\n")
    guard let end = text.range(of: "\r\n\r\n") else { return (0, [:], text, closed) }
    let headLines = text[..<end.lowerBound].split(separator: "\r\n")
    let status = Int(headLines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in headLines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    var body = String(text[end.upperBound...])
    while body.utf8.count < length, !closed {
        let more = client.receive(until: nil)
        body += more.text
        closed = more.closed
        if more.text.isEmpty { break }
    }
    return (status, headers, body, closed)
}

private let exposition = "# TYPE rtu104d_ingest_backlog gauge\nrtu104d_ingest_backlog 3.0\n"

private func withEndpoint(_ limits: MetricsHTTPServer.Limits = MetricsHTTPServer.Limits(),
                          _ body: (Int) async throws -> Void) async throws {
    let server = try await MetricsHTTPServer.start(host: "127.0.0.1", port: 0, limits: limits) { format, loop in
        loop.makeSucceededFuture(MetricsExposition.render(exposition, as: format))
    }
    do {
        try await body(try #require(server.localAddress?.port))
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

@Suite("Metrics endpoint over HTTP on loopback")
struct MetricsHTTPServerTests {
    @Test func getMetricsAnswersInTheFormatAskedForAndKeepsTheConnection() async throws {
        try await withEndpoint { port in
            let client = try #require(LoopbackClient(port: port))
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let plain = response(client)
            #expect(plain.status == 200)
            #expect(plain.headers["content-type"] == MetricsExposition.Format.prometheus.contentType)
            #expect(plain.body.contains("rtu104d_ingest_backlog 3.0"))
            #expect(!plain.closed)
            client.send("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n")
            let open = response(client)
            #expect(open.status == 200)
            #expect(open.headers["content-type"] == MetricsExposition.Format.openMetrics.contentType)
            #expect(open.body.hasSuffix("# EOF\n"))
        }
    }

    @Test func otherPathsAndMethodsAreRefused() async throws {
        try await withEndpoint { port in
            let client = try #require(LoopbackClient(port: port))
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response(client).status == 404)
            client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            let post = response(client)
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET, HEAD")
            client.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let head = response(client)
            #expect(head.status == 200 && head.body.isEmpty)
        }
    }

    @Test func anOversizedRequestIsAnswered431AndClosed() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.maximumRequestBytes = 1024
        try await withEndpoint(limits) { port in
            let client = try #require(LoopbackClient(port: port))
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + String(repeating: "a", count: 4000) + "\r\n\r\n")
            let answer = client.receive()
            #expect(answer.text.hasPrefix("HTTP/1.1 431"))
            #expect(answer.closed)
            // The endpoint goes on serving others.
            let other = try #require(LoopbackClient(port: port))
            other.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response(other).status == 200)
        }
    }

    @Test func aRequestThatNeverEndsIsClosedAtItsDeadline() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.requestTimeout = .milliseconds(200)
        try await withEndpoint(limits) { port in
            // The idle time (30 s) is beyond the client's patience: a close before it is the request deadline's.
            let client = try #require(LoopbackClient(port: port, timeout: .seconds(15)))
            let started = ContinuousClock.now
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")  // and nothing more: slowloris
            let answer = client.receive()
            #expect(answer.closed)
            #expect(ContinuousClock.now - started < .seconds(15))
        }
    }

    @Test func connectionsBeyondTheLimitAreClosedAtOnce() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.maximumConnections = 2
        try await withEndpoint(limits) { port in
            let first = try #require(LoopbackClient(port: port))
            let second = try #require(LoopbackClient(port: port))
            first.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            second.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response(first).status == 200 && response(second).status == 200)
            let third = try #require(LoopbackClient(port: port, timeout: .seconds(3)))
            third.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = third.receive()
            #expect(refused.closed && refused.text.isEmpty)
            // One leaves; a new client gets in.
            withExtendedLifetime(first) {}
            _ = consume first
            try await Task.sleep(for: .milliseconds(100))
            let fourth = try #require(LoopbackClient(port: port))
            fourth.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response(fourth).status == 200)
        }
    }
}

@Suite("Metrics endpoint: silent clients")
struct MetricsSilentClientTests {
    /// A client that connects and never sends is let go at the request time, not the longer idle time, so that a
    /// handful of them cannot keep the scraper out.
    @Test func aConnectionThatSendsNothingIsClosedAtTheRequestTime() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.requestTimeout = .milliseconds(200)
        limits.idleTimeout = .seconds(30)
        try await withEndpoint(limits) { port in
            let silent = try #require(LoopbackClient(port: port, timeout: .seconds(15)))
            let started = ContinuousClock.now
            #expect(silent.receive().closed)
            #expect(ContinuousClock.now - started < .seconds(15))
        }
    }
}
