public import IEC104

/// Which requests in control direction a station accepts and with which causes of transmission
/// (IEC 60870-5-101 clause 7.2.3, as IEC 60870-5-104 clause 9 lists them).
///
/// One table for the station, which refuses anything else with COT 44 or 45, and for the interoperability document
/// `rtu104ctl interop-doc` writes, so that the document cannot say what the station does not do.
public enum StationRequestTable {
    /// Whether a station serves requests of `typeID`; any other type is refused with COT 44.
    public static func isHandled(_ typeID: TypeID, acceptTestCommandWithoutTime: Bool) -> Bool {
        if typeID.isCommand { return true }
        switch typeID {
        case .C_IC_NA_1, .C_CI_NA_1, .C_RD_NA_1, .C_CS_NA_1, .C_RP_NA_1, .C_CD_NA_1, .C_TS_TA_1: return true
        case .C_TS_NA_1: return acceptTestCommandWithoutTime
        default: return false
        }
    }

    /// The causes a request of `typeID` may carry; any other is refused with COT 45.
    public static func acceptedCauses(for typeID: TypeID) -> [Cause] {
        if typeID.isCommand { return [.activation, .deactivation] }
        switch typeID {
        case .C_IC_NA_1: return [.activation, .deactivation]
        case .C_RD_NA_1: return [.request]
        case .C_CD_NA_1: return [.activation, .spontaneous]
        default: return [.activation]
        }
    }
}
