import Testing
import IEC104
@testable import Outstation
import TestSupport

/// A started harness with a few points on CA 47 and a command point.
private func startedHarness(configure: (inout StationConfiguration) -> Void = { _ in }) throws -> (Harness, ConnectionID) {
    let harness = Harness(points: [.point(1, .single, value: .single(true), timeTagged: true),
                                   .point(2, .float, value: .float(2.5))],
                          commands: [CommandPointDefinition(address: address(100), kind: .single)],
                          configure: configure)
    let id = harness.connect().id
    try harness.startDataTransfer(on: id)
    return (harness, id)
}

@Suite("Read, clock synchronisation, test, reset and delay")
struct RequestTests {
    @Test func readIsAnsweredWithThePointAndNoConfirmation() throws {
        let (harness, id) = try startedHarness()
        harness.request(hex("66 01 05 03 2F 00 02 00 00"), on: id)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.count == 1)
        let reply = try #require(asdus.first)
        #expect(reply.typeID == .M_ME_NC_1)
        #expect(reply.cot == .request)
        #expect(reply.cause.originator == 3)
        #expect(!reply.cause.isNegative)
        #expect(reply.objects == [InformationObject(address: 2, element: .float(2.5, []))])

        // A time-tagged point is read without its time tag.
        harness.request(hex("66 01 05 00 2F 00 01 00 00"), on: id)
        #expect(try harness.exchange(on: id).flatMap(\.objects)
                == [InformationObject(address: 1, element: .singlePoint(SinglePointInformation(isOn: true)))])
    }

    @Test func readOfAnUnknownPointIsRefusedWithCause47() throws {
        let (harness, id) = try startedHarness()
        let request = hex("66 01 05 00 2F 00 09 00 00")
        harness.request(request, on: id)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw == [hex("66 01 6F 00 2F 00 09 00 00")], "COT 47 with P/N, otherwise the request")
        let negative = try ASDU(decoding: raw[0])
        #expect(negative.cot == .unknownObjectAddress)
        #expect(negative.cause.isNegative)
        #expect(harness.station().statistics.negativeConfirmations == 1)
    }

    @Test func clockSynchronisationConfirmsAndReportsTheOffset() throws {
        let (harness, id) = try startedHarness()
        let masterTime = startWallTime + 90_123
        let request = ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 0,
                           element: .clockSynchronization(CP56Time2a(unixMilliseconds: masterTime)))
        let bytes = try request.encoded()
        let actions = harness.request(bytes, on: id)
        let offsets = actions.compactMap { action -> Int64? in
            if case .clockSynchronized(let offset) = action { offset } else { nil }
        }
        #expect(offsets == [masterTime - harness.wallTime])
        #expect(offsets == [90_123])
        #expect(harness.station().clockOffsetMilliseconds == 90_123)
        let raw = try harness.exchangeRaw(on: id)
        #expect(raw == [ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: false)])
        let confirmation = try ASDU(decoding: raw[0])
        #expect(confirmation.objects.first?.element == .clockSynchronization(CP56Time2a(unixMilliseconds: masterTime)))
    }

    @Test func clockSynchronisationWithAnImpossibleDateIsRefused() throws {
        let (harness, id) = try startedHarness()
        // 31 February.
        let time = CP56Time2a(year: 25, month: 2, dayOfMonth: 31, hour: 0, minute: 0, milliseconds: 0)
        let bytes = try ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 0,
                             element: .clockSynchronization(time)).encoded()
        let actions = harness.request(bytes, on: id)
        #expect(!actions.contains { if case .clockSynchronized = $0 { true } else { false } })
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: true)])
        #expect(harness.station().clockOffsetMilliseconds == nil)
    }

    @Test func testCommandWithTimeIsConfirmed() throws {
        let (harness, id) = try startedHarness()
        let bytes = try ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 0,
                             element: .testWithTime(counter: 0x1234, time: CP56Time2a(unixMilliseconds: startWallTime))).encoded()
        harness.request(bytes, on: id)
        #expect(try harness.exchangeRaw(on: id) == [ASDU.confirmation(of: bytes, cause: .activationConfirmation, negative: false)])
    }

    @Test(arguments: [false, true])
    func testCommandWithoutTimeDependsOnConfiguration(accept: Bool) throws {
        let (harness, id) = try startedHarness { $0.acceptTestCommandWithoutTime = accept }
        let bytes = hex("68 01 06 00 2F 00 00 00 00 AA 55")
        harness.request(bytes, on: id)
        let raw = try harness.exchangeRaw(on: id)
        if accept {
            #expect(raw == [hex("68 01 07 00 2F 00 00 00 00 AA 55")])
        } else {
            #expect(raw == [hex("68 01 6C 00 2F 00 00 00 00 AA 55")], "COT 44 with P/N")
        }
    }

    @Test func resetProcessIsConfirmed() throws {
        let (harness, id) = try startedHarness()
        let bytes = hex("69 01 06 00 2F 00 00 00 00 01")
        let actions = harness.request(bytes, on: id)
        #expect(actions.contains { if case .notice = $0 { true } else { false } })
        #expect(try harness.exchangeRaw(on: id) == [hex("69 01 07 00 2F 00 00 00 00 01")])
    }

    @Test func resetProcessOfTheEventBufferDiscardsBufferedEvents() throws {
        let (harness, id) = try startedHarness()
        harness.disconnect(id)
        try harness.apply([update(2, .float(9))])
        #expect(harness.station().eventBuffer.count == 1)
        let next = harness.connect().id
        harness.send(.unnumbered(.startDTActivation), on: next)
        // STARTDT con and the buffered event went out at once; reset with QRP 2 clears what is still buffered.
        _ = try harness.exchange(on: next)
        try harness.apply([update(2, .float(10))])
        harness.request(hex("69 01 06 00 2F 00 00 00 00 02"), on: next)
        // The reply is queued ahead of the event the reset discarded.
        #expect(try harness.exchangeRaw(on: next) == [hex("69 01 07 00 2F 00 00 00 00 02")])
        #expect(harness.station().eventBuffer.isEmpty)
    }

    @Test func undefinedResetQualifierIsRefused() throws {
        let (harness, id) = try startedHarness()
        harness.request(hex("69 01 06 00 2F 00 00 00 00 07"), on: id)
        #expect(try harness.exchangeRaw(on: id) == [hex("69 01 47 00 2F 00 00 00 00 07")])
    }

    @Test func delayAcquisitionIsConfirmedOnActivationOnly() throws {
        let (harness, id) = try startedHarness()
        harness.request(hex("6A 01 06 00 2F 00 00 00 00 10 27"), on: id)
        #expect(try harness.exchangeRaw(on: id) == [hex("6A 01 07 00 2F 00 00 00 00 10 27")])
        // COT 3 (spontaneous) carries the delay without asking for a confirmation.
        harness.request(hex("6A 01 03 00 2F 00 00 00 00 10 27"), on: id)
        #expect(try harness.exchangeRaw(on: id).isEmpty)
    }
}

@Suite("Negative confirmations")
struct NegativeConfirmationTests {
    @Test(arguments: [
        "01 01 06 00 2F 00 01 00 00 01",           // M_SP_NA_1 sent by the master
        "6E 01 06 00 2F 00 02 00 00 00 40 01",     // P_ME_NA_1
        "C8 01 06 00 2F 00 00 00 00 00",           // type 200, not defined
        "0D 01 03 00 2F 00 02 00 00 00 00 80 3F 00", // M_ME_NC_1 spontaneous from the master
    ])
    func unknownTypeIsRefusedWithCause44(_ request: String) throws {
        let (harness, id) = try startedHarness()
        let bytes = hex(request)
        harness.request(bytes, on: id)
        let raw = try harness.exchangeRaw(on: id)
        var expected = bytes
        expected[2] = 44 | 0x40
        #expect(raw == [expected])
        #expect(harness.station().statistics.negativeConfirmations == 1)
    }

    @Test(arguments: [UInt8(3), 5, 7, 10, 20, 63])
    func unknownCauseIsRefusedWithCause45(cause: UInt8) throws {
        let (harness, id) = try startedHarness()
        let bytes = hex("64 01 \(cause.paddedHex) 00 2F 00 00 00 00 14")
        harness.request(bytes, on: id)
        var expected = bytes
        expected[2] = 45 | 0x40
        #expect(try harness.exchangeRaw(on: id) == [expected])
    }

    @Test func testBitIsKeptInTheMirror() throws {
        let (harness, id) = try startedHarness()
        // C_IC_NA_1 with T=1 and COT 3.
        harness.request(hex("64 01 83 00 2F 00 00 00 00 14"), on: id)
        #expect(try harness.exchangeRaw(on: id) == [hex("64 01 ED 00 2F 00 00 00 00 14")])
    }

    @Test(arguments: [
        "64 01 06 00 30 00 00 00 00 14",           // C_IC_NA_1 to CA 48
        "66 01 05 00 30 00 01 00 00",              // C_RD_NA_1 to CA 48
        "66 01 05 00 FF FF 01 00 00",              // C_RD_NA_1 broadcast
        "2D 01 06 00 FF FF 64 00 00 01",           // C_SC_NA_1 broadcast
        "2D 01 06 00 01 00 64 00 00 01",           // C_SC_NA_1 to CA 1
    ])
    func unknownCommonAddressIsRefusedWithCause46(_ request: String) throws {
        let (harness, id) = try startedHarness()
        let bytes = hex(request)
        let actions = harness.request(bytes, on: id)
        #expect(harness.commandRequests(in: actions).isEmpty)
        var expected = bytes
        expected[2] = 46 | 0x40
        #expect(try harness.exchangeRaw(on: id) == [expected])
    }

    @Test(arguments: [
        "2D 01 06 00 2F 00 65 00 00 01",           // C_SC_NA_1 to IOA 101
        "2D 01 06 00 2F 00 01 00 00 01",           // C_SC_NA_1 to a monitor point
        "64 01 06 00 2F 00 01 00 00 14",           // C_IC_NA_1 with IOA 1
    ])
    func unknownObjectAddressIsRefusedWithCause47(_ request: String) throws {
        let (harness, id) = try startedHarness()
        let bytes = hex(request)
        let actions = harness.request(bytes, on: id)
        #expect(harness.commandRequests(in: actions).isEmpty)
        var expected = bytes
        expected[2] = 47 | 0x40
        #expect(try harness.exchangeRaw(on: id) == [expected])
        #expect(harness.station().statistics.commandsReceived == 0)
    }

    @Test func malformedASDUIsRefusedAsAnActivation() throws {
        let (harness, id) = try startedHarness()
        // C_IC_NA_1 declaring two objects but carrying one.
        let bytes = hex("64 02 06 00 2F 00 00 00 00 14")
        harness.request(bytes, on: id)
        #expect(try harness.exchangeRaw(on: id) == [hex("64 02 47 00 2F 00 00 00 00 14")])
    }

    @Test func repliesKeepTheOrderOfTheRequests() throws {
        let (harness, id) = try startedHarness()
        harness.request(hex("66 01 05 00 2F 00 09 00 00"), on: id)
        harness.request(hex("66 01 05 00 2F 00 02 00 00"), on: id)
        let asdus = try harness.exchange(on: id)
        #expect(asdus.map(\.cot) == [.unknownObjectAddress, .request])
    }
}
