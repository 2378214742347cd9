import IEC104
import Outstation
import Testing

/// The table the station refuses requests by (COT 44, 45) and `rtu104ctl interop-doc` documents them from.
@Suite struct StationRequestTableTests {
    @Test func theStationServesTheSystemRequestsAndEveryCommandButNoParameterOrMonitorType() {
        let handled = TypeID.allCases.filter { StationRequestTable.isHandled($0, acceptTestCommandWithoutTime: false) }
        let commands = TypeID.allCases.filter(\.isCommand)
        #expect(Set(handled) == Set(commands + [.C_IC_NA_1, .C_CI_NA_1, .C_RD_NA_1, .C_CS_NA_1, .C_RP_NA_1, .C_CD_NA_1,
                                                .C_TS_TA_1]))
        #expect(StationRequestTable.isHandled(.C_TS_NA_1, acceptTestCommandWithoutTime: true))
        #expect(!StationRequestTable.isHandled(.C_TS_NA_1, acceptTestCommandWithoutTime: false))
    }

    @Test(arguments: [
        (TypeID.C_SC_NA_1, [Cause.activation, .deactivation]), (.C_BO_TA_1, [.activation, .deactivation]),
        (.C_IC_NA_1, [.activation, .deactivation]), (.C_CI_NA_1, [.activation]), (.C_RD_NA_1, [.request]),
        (.C_CS_NA_1, [.activation]), (.C_RP_NA_1, [.activation]), (.C_CD_NA_1, [.activation, .spontaneous]),
        (.C_TS_TA_1, [.activation]),
    ])
    func acceptedCauses(typeID: TypeID, causes: [Cause]) {
        #expect(StationRequestTable.acceptedCauses(for: typeID) == causes)
    }
}
