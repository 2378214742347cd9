import Foundation
import IEC104
import Outstation
@testable import Daemon
import Testing
import TestSupport

@Suite struct StateStoreTests {
    @Test func savedPointsComeBackAsTheyWere() throws {
        let scratch = Scratch()
        let store = StateStore(directory: scratch.path + "/state")  // made on the first save
        let saved = [
            PointUpdate(address: address(1), value: .single(true), quality: QualityDescriptor(rawValue: 0), time: 1_763_790_000_123),
            PointUpdate(address: address(2), value: .double(.on), quality: QualityDescriptor(rawValue: 0x80), time: nil),
            PointUpdate(address: address(3), value: .float(.nan), quality: QualityDescriptor(rawValue: 0), time: 5),
            PointUpdate(address: address(4, ca: 48), value: .counter(BinaryCounterReading(value: -7, sequenceNumber: 3)),
                        quality: QualityDescriptor(rawValue: 0), time: 6),
            PointUpdate(address: address(5), value: .step(StepPosition(value: -64, isTransient: true)),
                        quality: QualityDescriptor(rawValue: 0), time: 7),
        ]
        let files = [RememberedFileAddress(commonAddress: 47, directory: "/var/lib/rtu104d/records", name: "fault 1.cfg",
                                           objectAddress: 30002)]
        try store.save(SavedState(points: saved, fileAddresses: files), savedAt: 1)
        let state = try #require(try store.load())
        #expect(state.fileAddresses == files)
        let loaded = state.points
        #expect(loaded.count == saved.count)
        for (back, original) in zip(loaded, saved) {
            #expect(back.address == original.address)
            #expect(back.quality == original.quality)
            #expect(back.time == (original.time ?? 0), "a missing time is saved as 0")
            if case .float(let value) = original.value, case .float(let restored) = back.value {
                #expect(restored.bitPattern == value.bitPattern, "NaN keeps its bits")
            } else {
                #expect(back.value == original.value)
            }
        }
        #expect(!scratch.exists("state/state.json.tmp"), "the temporary file is renamed")
    }

    @Test func noFileYetIsNotAnError() throws {
        #expect(try StateStore(directory: Scratch().path).load() == nil)
    }

    @Test func aFileFromBeforeFileAddressesWereKeptLoads() throws {
        let scratch = Scratch()
        let store = StateStore(directory: scratch.path)
        try "{\"version\":1,\"saved_at\":1,\"points\":[{\"ca\":47,\"ioa\":1,\"quality\":0,\"time\":0,\"single\":true}]}"
            .write(toFile: store.path, atomically: true, encoding: .utf8)
        let state = try #require(try store.load())
        #expect(state.points.count == 1)
        #expect(state.fileAddresses.isEmpty)
    }

    @Test(arguments: [
        ("{\"version\":1,\"points\":[", "not a state file (not JSON)"),
        ("{\"version\":2,\"points\":[]}", "unknown layout (version 2)"),
        ("{\"version\":1,\"points\":[{\"ca\":47,\"ioa\":1,\"quality\":0,\"time\":0}]}", "entry 0 is damaged"),
        ("{\"version\":1,\"points\":[{\"ca\":70000,\"ioa\":1,\"quality\":0,\"single\":true}]}", "entry 0 is damaged"),
        ("{\"version\":1,\"points\":[],\"files\":[{\"ca\":47,\"ioa\":30001,\"directory\":\"/r\"}]}", "file entry 0 is damaged"),
        ("{\"version\":1,\"points\":[],\"files\":{}}", "files is not a list"),
    ])
    func aDamagedFileIsRefusedWithItsPath(text: String, problem: String) throws {
        let scratch = Scratch()
        let store = StateStore(directory: scratch.path)
        try text.write(toFile: store.path, atomically: true, encoding: .utf8)
        let error = #expect(throws: StateStoreError.self) { try store.load() }
        #expect(error?.description.contains(store.path) == true)
        #expect(error?.description.contains(problem) == true, "\(error.map { "\($0)" } ?? "")")
    }
}
