import Foundation
import IEC104
import Testing
import Master
@testable import rtu104ctl

@Suite("Master output: point rows, the point table check, bench arithmetic")
struct MasterOutputTests {
    static func row(_ element: InformationElement, ioa: UInt32 = 100, cause: Cause = .interrogatedByStation,
                    ca: UInt16 = 47) -> PointRow {
        PointRow(commonAddress: ca, typeID: element.typeID, cause: CauseOfTransmission(cause),
                 object: InformationObject(address: ioa, element: element))
    }

    static let stamp = CP56Time2a(year: 26, month: 11, dayOfMonth: 22, hour: 4, minute: 57, milliseconds: 51_123)

    // MARK: Rows

    @Test func tableRow() {
        let row = Self.row(.singlePoint(SinglePointInformation(isOn: true, quality: .invalid)))
        #expect(PointRowFormatter.header(.table, raw: false)
                == "CA    IOA      TYPE       VALUE            QUALITY      TIME                     COT")
        #expect(PointRowFormatter.format(row, .table)
                == "47    100      M_SP_NA_1  on               IV           -                        inrogen (20)")
    }

    @Test func tableRowWithTime() {
        let row = Self.row(.float(230.5, .substituted, time: Self.stamp), ioa: 700, cause: .spontaneous)
        #expect(PointRowFormatter.format(row, .table)
                == "47    700      M_ME_TF_1  230.5            SB           2026-11-22T04:57:51.123  spont (3)")
    }

    @Test func csvRows() {
        #expect(PointRowFormatter.header(.csv, raw: false) == "ca,ioa,type,value,quality,time,cot,cot_name")
        let row = Self.row(.doublePoint(DoublePointInformation(state: .intermediate, quality: [.notTopical, .invalid])), ioa: 202)
        #expect(PointRowFormatter.format(row, .csv) == "47,202,M_DP_NA_1,intermediate,NT|IV,,20,inrogen")
        let timed = Self.row(.integratedTotals(BinaryCounterReading(value: -7), time: Self.stamp), ioa: 901,
                             cause: .requestedByGeneralCounter)
        #expect(PointRowFormatter.format(timed, .csv) == "47,901,M_IT_TB_1,-7,,2026-11-22T04:57:51.123,37,reqcogen")
    }

    @Test func csvQuotesCommas() {
        let row = Self.row(.packedSinglePoints(StatusChangeDetection(status: 1, changed: 2), []))
        #expect(PointRowFormatter.csvField("a,b") == "\"a,b\"")
        #expect(PointRowFormatter.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(PointRowFormatter.format(row, .csv).hasPrefix("47,100,M_PS_NA_1,status=0x0001 changed=0x0002,"))
    }

    @Test func jsonRows() {
        let row = Self.row(.stepPosition(StepPosition(value: -5, isTransient: true), []), ioa: 300)
        #expect(PointRowFormatter.format(row, .json) == """
            {"ca":47,"ioa":300,"type":"M_ST_NA_1","typeId":5,"value":-5,"transient":true,"quality":[],"cot":20,"cotName":"inrogen"}
            """)
        var negative = Self.row(.singlePoint(SinglePointInformation(isOn: false)), cause: .request)
        negative.cause.isNegative = true
        negative.raw = [0x68, 0x04]
        #expect(PointRowFormatter.format(negative, .json, raw: true).hasSuffix(#""cot":5,"cotName":"req","negative":true,"raw":"68 04"}"#))
    }

    @Test func jsonRowsParse() throws {
        let row = Self.row(.bitstring(0xDEAD_BEEF, [], time: Self.stamp), ioa: 400)
        let object = try JSONSerialization.jsonObject(with: Data(PointRowFormatter.format(row, .json).utf8)) as? [String: Any]
        #expect(object?["hex"] as? String == "0xDEADBEEF")
        #expect(object?["time"] as? String == "2026-11-22T04:57:51.123")
    }

    @Test("value texts", arguments: [
        (InformationElement.normalized(NormalizedValue(rawValue: 16384), []), "0.5"),
        (.scaled(-1234, []), "-1234"), (.bitstring(0xFF, []), "0x000000FF"),
        (.doublePoint(DoublePointInformation(state: .on)), "on"),
        (.endOfInitialization(.localPowerOn), "COI=0 (local power switch on)"),
        (.singleCommand(SingleCommand(isOn: true), time: stamp), "value=on execute QU=0 (default)"),
    ])
    func valueTexts(element: InformationElement, text: String) {
        #expect(PointRowFormatter.valueText(element) == text)
    }

    @Test func printerWritesHeaderOnce() {
        #expect(PointRowFormatter.header(.json, raw: false) == nil)
        #expect(PointRowFormatter.header(.csv, raw: true) == "ca,ioa,type,value,quality,time,cot,cot_name,raw")
    }

    // MARK: Point table and comparison

    static let table = """
        { "comment": "x", "points": [
          { "comment": "only a comment" },
          { "ca": 47, "ioa": 100, "type": "single", "value": false },
          { "ca": 47, "ioa": 101, "type": "single", "value": "on", "quality": ["invalid"] },
          { "ca": 47, "ioa": 200, "type": "double", "value": "intermediate" },
          { "ca": 47, "ioa": 300, "type": "step", "value": -5, "transient": true },
          { "ca": 47, "ioa": 400, "type": "bitstring", "value": "0xDEADBEEF" },
          { "ca": 47, "ioa": 500, "type": "normalized", "value": 0.5 },
          { "ca": 47, "ioa": 600, "type": "scaled" },
          { "ca": 47, "ioa": 700, "type": "float", "value": 230.5, "time_tag": true },
          { "ca": 47, "ioa": 900, "type": "integrated_totals", "value": 123456, "counter_group": 1 },
          { "ca": 47, "ioa": 2001, "command": "single", "sbo": "required" }
        ] }
        """

    @Test func readsTheTable() throws {
        let points = try PointTableFile.parse(Data(Self.table.utf8), file: "points.json")
        #expect(points.count == 9)
        #expect(points[1].value == .single(true) && points[1].quality == ["IV"])
        #expect(points[2].value == .double(.intermediate))
        #expect(points[3].value == .step(-5, transient: true))
        #expect(points[4].value == .bitstring(0xDEAD_BEEF))
        #expect(points[6].value == .scaled(0))
        #expect(points[8].kind == .counter && points[8].value == .counter(123_456))
    }

    @Test("table errors", arguments: [
        (#"{"points": [{"ca": 47, "ioa": 1, "type": "analog"}]}"#, "unknown type 'analog'"),
        (#"{"points": [{"ca": 47, "ioa": 1, "type": "step", "value": 64}]}"#, "is not a step value"),
        (#"{"points": [{"ca": 70000, "ioa": 1, "type": "single"}]}"#, "'ca' must be 0...65535"),
        (#"{"points": [{"ca": 1, "ioa": 1, "type": "single", "quality": ["dirty"]}]}"#, "unknown quality flag 'dirty'"),
        (#"{"rows": []}"#, "a point table is a JSON object"),
        (#"{"points": [ }"#, "not valid JSON"),
    ])
    func tableErrors(text: String, message: String) {
        #expect {
            _ = try PointTableFile.parse(Data(text.utf8), file: "t.json")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".hasPrefix("t.json")
        }
    }

    static func matchingRows() -> [PointRow] {
        [
            row(.singlePoint(SinglePointInformation(isOn: false)), ioa: 100),
            row(.singlePoint(SinglePointInformation(isOn: true, quality: .invalid)), ioa: 101),
            row(.doublePoint(DoublePointInformation(state: .intermediate)), ioa: 200),
            row(.stepPosition(StepPosition(value: -5, isTransient: true), []), ioa: 300),
            row(.bitstring(0xDEAD_BEEF, []), ioa: 400),
            row(.normalized(NormalizedValue(0.5), []), ioa: 500),
            row(.scaled(0, []), ioa: 600),
            row(.float(230.5, []), ioa: 700),
            row(.integratedTotals(BinaryCounterReading(value: 123_456)), ioa: 900, cause: .requestedByGeneralCounter),
        ]
    }

    @Test func matchingTable() throws {
        let points = try PointTableFile.parse(Data(Self.table.utf8), file: "points.json")
        #expect(PointComparison.compare(expected: points, received: Self.matchingRows()).isEmpty)
    }

    @Test func differences() throws {
        let points = try PointTableFile.parse(Data(Self.table.utf8), file: "points.json")
        var rows = Self.matchingRows()
        rows.remove(at: 0)                                                          // 100 missing
        rows[1] = Self.row(.singlePoint(SinglePointInformation(isOn: true)), ioa: 200)        // wrong type
        rows[4] = Self.row(.normalized(NormalizedValue(0.25), []), ioa: 500)                  // wrong value
        rows[0] = Self.row(.singlePoint(SinglePointInformation(isOn: true)), ioa: 101)        // wrong quality
        rows.append(Self.row(.singlePoint(SinglePointInformation(isOn: true)), ioa: 999))     // extra
        let differences = PointComparison.compare(expected: points, received: rows)
        #expect(differences.map(\.kind) == [.missing, .wrongQuality, .wrongType, .wrongValue, .extra])
        #expect(differences.map(\.address) == [100, 101, 200, 500, 999])
        #expect(differences[0].text == "missing        47:100       expected single off, not received")
        #expect(differences[3].text == "wrong value    47:500       expected 0.5, received 0.25")
        #expect(differences[4].text == "extra          47:999       not in the table, received M_SP_NA_1 on")
        #expect(render(differences[2].json)
                == #"{"difference":"wrong type","ca":47,"ioa":200,"expected":"double (M_DP_NA_1)","received":"M_SP_NA_1 on"}"#)
        let valuesIgnored = PointComparison.compare(expected: points, received: rows, values: false, quality: false)
        #expect(valuesIgnored.map(\.kind) == [.missing, .wrongType, .extra])
    }

    @Test func timeTaggedTypeCountsAsTheSameType() throws {
        let points = try PointTableFile.parse(Data(#"{"points":[{"ca":1,"ioa":1,"type":"float","value":1.5}]}"#.utf8), file: "t")
        let rows = [Self.row(.float(1.5, [], time: Self.stamp), ioa: 1, ca: 1)]
        #expect(PointComparison.compare(expected: points, received: rows).isEmpty)
    }

    // MARK: Bench arithmetic

    @Test func cp56InPlace() {
        for milliseconds: Int64 in [0, 946_684_800_000, 1_795_000_123_456, 4_102_444_799_999] {
            var bytes: [UInt8] = []
            CP56Time2a(unixMilliseconds: milliseconds).encode(into: &bytes)
            let decoded = bytes.withUnsafeBufferPointer { cp56Milliseconds($0.baseAddress!) }
            let expected = CP56Time2a(unixMilliseconds: milliseconds).unixMilliseconds()
            #expect(decoded == expected)
        }
        let invalid: [UInt8] = [0, 0, 60, 0, 1, 1, 26]
        #expect(invalid.withUnsafeBufferPointer { cp56Milliseconds($0.baseAddress!) } == nil)
    }

    @Test func latencyPercentiles() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(50) == nil)
        for value in 1...100 { histogram.add(milliseconds: Int64(value)) }
        histogram.add(milliseconds: -5000)
        #expect(histogram.percentile(50) == 50)
        #expect(histogram.percentile(99) == 99)
        #expect(histogram.maximum == 100)
        #expect(histogram.percentile(0) == -1000)
    }
}
