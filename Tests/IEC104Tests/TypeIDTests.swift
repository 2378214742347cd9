import IEC104
import Testing

@Suite("Type identification")
struct TypeIDTests {
    @Test("mnemonics are the standard's names (and do not recurse through description)")
    func mnemonicNames() {
        #expect(TypeID.M_SP_NA_1.mnemonic == "M_SP_NA_1")
        #expect(TypeID.C_IC_NA_1.mnemonic == "C_IC_NA_1")
        #expect(TypeID.P_AC_NA_1.description == "P_AC_NA_1 (113)")
        #expect("\(TypeID.M_ME_TF_1)" == "M_ME_TF_1 (36)")
        #expect(Set(TypeID.allCases.map(\.mnemonic)).count == TypeID.allCases.count)
    }

    @Test("mnemonics and descriptions", arguments: TypeID.allCases)
    func mnemonic(_ type: TypeID) {
        #expect(type.mnemonic.count == 9)
        #expect(type.mnemonic.hasPrefix(type.isMonitorDirection ? "M_" : type.isFileTransfer ? "F_"
                                        : type.rawValue >= 110 ? "P_" : "C_"))
        #expect(type.description == "\(type.mnemonic) (\(type.rawValue))")
        #expect(!type.summary.isEmpty)
    }

    @Test("time-tagged types add exactly seven octets of CP56Time2a", arguments: TypeID.allCases)
    func timeTagPairs(_ type: TypeID) throws {
        let plain = type.withoutTimeTag
        #expect(!plain.hasTimeTag || plain == type)
        if type.hasTimeTag, plain != type {
            #expect(type.elementSize == plain.elementSize + CP56Time2a.encodedSize)
            #expect(plain.withTimeTag == type)
        }
        if let timed = type.withTimeTag {
            #expect(timed.hasTimeTag)
        } else {
            #expect(!type.hasTimeTag)
        }
        if type.hasTimeTag {
            #expect(type.elementSize >= CP56Time2a.encodedSize)
        }
    }

    @Test("directions and families")
    func families() {
        #expect(TypeID.allCases.filter(\.isCommand).map(\.rawValue) == Array(45...51) + Array(58...64))
        #expect(TypeID.allCases.filter(\.isMonitorDirection).count == 22)
        #expect(TypeID.M_EI_NA_1.isMonitorDirection)
        #expect(!TypeID.C_IC_NA_1.isMonitorDirection && !TypeID.C_IC_NA_1.isCommand)
        #expect(TypeID.allCases.filter(\.isNotFor104) == [.C_TS_NA_1])
        #expect(TypeID.allCases.filter(\.isFileTransfer).map(\.rawValue) == Array(120...127))
    }
}
