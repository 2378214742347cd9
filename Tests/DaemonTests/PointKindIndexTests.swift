import Config
@testable import Daemon
import IEC104
import Outstation
import Testing

/// The sorted kind index that update parsers read against answers as the dictionary it replaced.
@Suite struct PointKindIndexTests {
    static func point(_ ca: UInt16, _ ioa: UInt32, _ kind: PointKind) -> MonitorPointDefinition {
        MonitorPointDefinition(address: PointAddress(commonAddress: ca, objectAddress: ioa), kind: kind)
    }

    @Test func answersLikeADictionary() {
        var generator = SystemRandomNumberGenerator()
        var points: [MonitorPointDefinition] = []
        for ca in [UInt16(1), 47, 65534] {
            for ioa in stride(from: UInt32(1), through: 16_777_215, by: 999_983) {
                points.append(Self.point(ca, ioa, PointKind.allCases.randomElement(using: &generator)!))
            }
        }
        let sorted = points.sorted { $0.address < $1.address }
        var expected: [PointAddress: PointKind] = [:]
        for point in sorted where expected[point.address] == nil { expected[point.address] = point.kind }
        for table in [PointTable(monitorPoints: sorted), PointTable(monitorPoints: sorted.reversed()),
                      PointTable(monitorPoints: points.shuffled())] {
            let index = PointKindIndex(table)
            #expect(index.count == expected.count)
            for (address, kind) in expected { #expect(index[address] == kind) }
            for missing in [PointAddress(commonAddress: 47, objectAddress: 2), PointAddress(commonAddress: 2, objectAddress: 1),
                            PointAddress(commonAddress: 65534, objectAddress: 16_777_215), PointAddress(commonAddress: 0, objectAddress: 0)] {
                #expect(index[missing] == nil)
            }
        }
    }

    @Test func theFirstDefinitionOfARepeatedAddressCounts() {
        let table = PointTable(monitorPoints: [Self.point(47, 2, .float), Self.point(47, 1, .single), Self.point(47, 2, .double)])
        let index = PointKindIndex(table)
        #expect(index.count == 2)
        #expect(index[PointAddress(commonAddress: 47, objectAddress: 2)] == .float)
        #expect(index[PointAddress(commonAddress: 47, objectAddress: 1)] == .single)
    }

    @Test func emptyTable() {
        #expect(PointKindIndex(PointTable())[PointAddress(commonAddress: 47, objectAddress: 1)] == nil)
    }
}
