/// ASDU type identification, IEC 60870-5-101 clause 7.2.1 with the selection of IEC 60870-5-104 clause 8.
///
/// Case names are the standard's mnemonics, which is what engineers read in captures and profiles.
public enum TypeID: UInt8, CaseIterable, Hashable, Sendable {
    // Process information in monitor direction
    case M_SP_NA_1 = 1
    case M_DP_NA_1 = 3
    case M_ST_NA_1 = 5
    case M_BO_NA_1 = 7
    case M_ME_NA_1 = 9
    case M_ME_NB_1 = 11
    case M_ME_NC_1 = 13
    case M_IT_NA_1 = 15
    case M_PS_NA_1 = 20
    case M_ME_ND_1 = 21
    case M_SP_TB_1 = 30
    case M_DP_TB_1 = 31
    case M_ST_TB_1 = 32
    case M_BO_TB_1 = 33
    case M_ME_TD_1 = 34
    case M_ME_TE_1 = 35
    case M_ME_TF_1 = 36
    case M_IT_TB_1 = 37
    case M_EP_TD_1 = 38
    case M_EP_TE_1 = 39
    case M_EP_TF_1 = 40
    // System information in monitor direction
    case M_EI_NA_1 = 70
    // Process information in control direction
    case C_SC_NA_1 = 45
    case C_DC_NA_1 = 46
    case C_RC_NA_1 = 47
    case C_SE_NA_1 = 48
    case C_SE_NB_1 = 49
    case C_SE_NC_1 = 50
    case C_BO_NA_1 = 51
    case C_SC_TA_1 = 58
    case C_DC_TA_1 = 59
    case C_RC_TA_1 = 60
    case C_SE_TA_1 = 61
    case C_SE_TB_1 = 62
    case C_SE_TC_1 = 63
    case C_BO_TA_1 = 64
    // System information in control direction
    case C_IC_NA_1 = 100
    case C_CI_NA_1 = 101
    case C_RD_NA_1 = 102
    case C_CS_NA_1 = 103
    /// Test command without time tag: defined by IEC 60870-5-101, not used by IEC 60870-5-104 (clause 8).
    case C_TS_NA_1 = 104
    case C_RP_NA_1 = 105
    case C_CD_NA_1 = 106
    case C_TS_TA_1 = 107
    // Parameters in control direction
    case P_ME_NA_1 = 110
    case P_ME_NB_1 = 111
    case P_ME_NC_1 = 112
    case P_AC_NA_1 = 113
    // File transfer (clause 7.3.6), both directions
    case F_FR_NA_1 = 120
    case F_SR_NA_1 = 121
    case F_SC_NA_1 = 122
    case F_LS_NA_1 = 123
    case F_AF_NA_1 = 124
    /// Segment: the one type whose element length varies (NOF, NOS, LOS and LOS octets of data).
    case F_SG_NA_1 = 125
    case F_DR_TA_1 = 126
    case F_SC_NB_1 = 127

    /// Octets of one information element, without the information object address.
    public var elementSize: Int {
        switch self {
        case .M_SP_NA_1, .M_DP_NA_1: 1
        case .M_ST_NA_1: 2
        case .M_BO_NA_1: 5
        case .M_ME_NA_1, .M_ME_NB_1: 3
        case .M_ME_NC_1: 5
        case .M_IT_NA_1: 5
        case .M_PS_NA_1: 5
        case .M_ME_ND_1: 2
        case .M_SP_TB_1, .M_DP_TB_1: 8
        case .M_ST_TB_1: 9
        case .M_BO_TB_1: 12
        case .M_ME_TD_1, .M_ME_TE_1: 10
        case .M_ME_TF_1: 12
        case .M_IT_TB_1: 12
        case .M_EP_TD_1: 10
        case .M_EP_TE_1, .M_EP_TF_1: 11
        case .M_EI_NA_1: 1
        case .C_SC_NA_1, .C_DC_NA_1, .C_RC_NA_1: 1
        case .C_SE_NA_1, .C_SE_NB_1: 3
        case .C_SE_NC_1: 5
        case .C_BO_NA_1: 4
        case .C_SC_TA_1, .C_DC_TA_1, .C_RC_TA_1: 8
        case .C_SE_TA_1, .C_SE_TB_1: 10
        case .C_SE_TC_1: 12
        case .C_BO_TA_1: 11
        case .C_IC_NA_1, .C_CI_NA_1: 1
        case .C_RD_NA_1: 0
        case .C_CS_NA_1: 7
        case .C_TS_NA_1: 2
        case .C_RP_NA_1: 1
        case .C_CD_NA_1: 2
        case .C_TS_TA_1: 9
        case .P_ME_NA_1, .P_ME_NB_1: 3
        case .P_ME_NC_1: 5
        case .P_AC_NA_1: 1
        case .F_FR_NA_1: 6
        case .F_SR_NA_1: 7
        case .F_SC_NA_1: 4
        case .F_LS_NA_1: 5
        case .F_AF_NA_1: 4
        case .F_SG_NA_1: 4
        case .F_DR_TA_1: 13
        case .F_SC_NB_1: 16
        }
    }

    /// File transfer, types 120–127.
    public var isFileTransfer: Bool { (120...127).contains(rawValue) }

    /// Whether the element ends in a CP56Time2a time tag.
    public var hasTimeTag: Bool {
        switch self {
        case .M_SP_TB_1, .M_DP_TB_1, .M_ST_TB_1, .M_BO_TB_1, .M_ME_TD_1, .M_ME_TE_1, .M_ME_TF_1,
             .M_IT_TB_1, .M_EP_TD_1, .M_EP_TE_1, .M_EP_TF_1,
             .C_SC_TA_1, .C_DC_TA_1, .C_RC_TA_1, .C_SE_TA_1, .C_SE_TB_1, .C_SE_TC_1, .C_BO_TA_1,
             .C_CS_NA_1, .C_TS_TA_1, .F_DR_TA_1:
            true
        default:
            false
        }
    }

    /// Process information in monitor direction (including end of initialization).
    public var isMonitorDirection: Bool { rawValue < 45 || self == .M_EI_NA_1 }

    /// Process commands, types 45–51 and 58–64.
    public var isCommand: Bool { (45...51).contains(rawValue) || (58...64).contains(rawValue) }

    /// Types that IEC 60870-5-104 clause 8 does not carry; decoded only to be refused.
    public var isNotFor104: Bool { self == .C_TS_NA_1 }

    /// The type without a time tag that carries the same information (for interrogation replies).
    public var withoutTimeTag: TypeID {
        switch self {
        case .M_SP_TB_1: .M_SP_NA_1
        case .M_DP_TB_1: .M_DP_NA_1
        case .M_ST_TB_1: .M_ST_NA_1
        case .M_BO_TB_1: .M_BO_NA_1
        case .M_ME_TD_1: .M_ME_NA_1
        case .M_ME_TE_1: .M_ME_NB_1
        case .M_ME_TF_1: .M_ME_NC_1
        case .M_IT_TB_1: .M_IT_NA_1
        case .C_SC_TA_1: .C_SC_NA_1
        case .C_DC_TA_1: .C_DC_NA_1
        case .C_RC_TA_1: .C_RC_NA_1
        case .C_SE_TA_1: .C_SE_NA_1
        case .C_SE_TB_1: .C_SE_NB_1
        case .C_SE_TC_1: .C_SE_NC_1
        case .C_BO_TA_1: .C_BO_NA_1
        default: self
        }
    }

    /// The type with a CP56Time2a time tag that carries the same information, if the standard has one.
    public var withTimeTag: TypeID? {
        switch self {
        case .M_SP_NA_1: .M_SP_TB_1
        case .M_DP_NA_1: .M_DP_TB_1
        case .M_ST_NA_1: .M_ST_TB_1
        case .M_BO_NA_1: .M_BO_TB_1
        case .M_ME_NA_1: .M_ME_TD_1
        case .M_ME_NB_1: .M_ME_TE_1
        case .M_ME_NC_1: .M_ME_TF_1
        case .M_IT_NA_1: .M_IT_TB_1
        case .C_SC_NA_1: .C_SC_TA_1
        case .C_DC_NA_1: .C_DC_TA_1
        case .C_RC_NA_1: .C_RC_TA_1
        case .C_SE_NA_1: .C_SE_TA_1
        case .C_SE_NB_1: .C_SE_TB_1
        case .C_SE_NC_1: .C_SE_TC_1
        case .C_BO_NA_1: .C_BO_TA_1
        default: hasTimeTag ? self : nil
        }
    }

    /// A type identification as operators and metrics name it: the mnemonic of one the standard defines, else
    /// its number (`C_SC_NA_1`, `255`).
    public static func name(of rawValue: UInt8) -> String {
        TypeID(rawValue: rawValue)?.mnemonic ?? String(rawValue)
    }

    /// The standard's mnemonic, e.g. `M_SP_NA_1`.
    ///
    /// Spelled out: `String(describing: self)` would call ``description``, which calls this.
    public var mnemonic: String {
        switch self {
        case .M_SP_NA_1: "M_SP_NA_1"
        case .M_DP_NA_1: "M_DP_NA_1"
        case .M_ST_NA_1: "M_ST_NA_1"
        case .M_BO_NA_1: "M_BO_NA_1"
        case .M_ME_NA_1: "M_ME_NA_1"
        case .M_ME_NB_1: "M_ME_NB_1"
        case .M_ME_NC_1: "M_ME_NC_1"
        case .M_IT_NA_1: "M_IT_NA_1"
        case .M_PS_NA_1: "M_PS_NA_1"
        case .M_ME_ND_1: "M_ME_ND_1"
        case .M_SP_TB_1: "M_SP_TB_1"
        case .M_DP_TB_1: "M_DP_TB_1"
        case .M_ST_TB_1: "M_ST_TB_1"
        case .M_BO_TB_1: "M_BO_TB_1"
        case .M_ME_TD_1: "M_ME_TD_1"
        case .M_ME_TE_1: "M_ME_TE_1"
        case .M_ME_TF_1: "M_ME_TF_1"
        case .M_IT_TB_1: "M_IT_TB_1"
        case .M_EP_TD_1: "M_EP_TD_1"
        case .M_EP_TE_1: "M_EP_TE_1"
        case .M_EP_TF_1: "M_EP_TF_1"
        case .M_EI_NA_1: "M_EI_NA_1"
        case .C_SC_NA_1: "C_SC_NA_1"
        case .C_DC_NA_1: "C_DC_NA_1"
        case .C_RC_NA_1: "C_RC_NA_1"
        case .C_SE_NA_1: "C_SE_NA_1"
        case .C_SE_NB_1: "C_SE_NB_1"
        case .C_SE_NC_1: "C_SE_NC_1"
        case .C_BO_NA_1: "C_BO_NA_1"
        case .C_SC_TA_1: "C_SC_TA_1"
        case .C_DC_TA_1: "C_DC_TA_1"
        case .C_RC_TA_1: "C_RC_TA_1"
        case .C_SE_TA_1: "C_SE_TA_1"
        case .C_SE_TB_1: "C_SE_TB_1"
        case .C_SE_TC_1: "C_SE_TC_1"
        case .C_BO_TA_1: "C_BO_TA_1"
        case .C_IC_NA_1: "C_IC_NA_1"
        case .C_CI_NA_1: "C_CI_NA_1"
        case .C_RD_NA_1: "C_RD_NA_1"
        case .C_CS_NA_1: "C_CS_NA_1"
        case .C_TS_NA_1: "C_TS_NA_1"
        case .C_RP_NA_1: "C_RP_NA_1"
        case .C_CD_NA_1: "C_CD_NA_1"
        case .C_TS_TA_1: "C_TS_TA_1"
        case .P_ME_NA_1: "P_ME_NA_1"
        case .P_ME_NB_1: "P_ME_NB_1"
        case .P_ME_NC_1: "P_ME_NC_1"
        case .P_AC_NA_1: "P_AC_NA_1"
        case .F_FR_NA_1: "F_FR_NA_1"
        case .F_SR_NA_1: "F_SR_NA_1"
        case .F_SC_NA_1: "F_SC_NA_1"
        case .F_LS_NA_1: "F_LS_NA_1"
        case .F_AF_NA_1: "F_AF_NA_1"
        case .F_SG_NA_1: "F_SG_NA_1"
        case .F_DR_TA_1: "F_DR_TA_1"
        case .F_SC_NB_1: "F_SC_NB_1"
        }
    }

    /// What the type carries, in words.
    public var summary: String {
        switch self {
        case .M_SP_NA_1: "single-point information"
        case .M_DP_NA_1: "double-point information"
        case .M_ST_NA_1: "step position information"
        case .M_BO_NA_1: "bitstring of 32 bit"
        case .M_ME_NA_1: "measured value, normalized value"
        case .M_ME_NB_1: "measured value, scaled value"
        case .M_ME_NC_1: "measured value, short floating point"
        case .M_IT_NA_1: "integrated totals"
        case .M_PS_NA_1: "packed single-point information with status change detection"
        case .M_ME_ND_1: "measured value, normalized value without quality descriptor"
        case .M_SP_TB_1: "single-point information with time tag CP56Time2a"
        case .M_DP_TB_1: "double-point information with time tag CP56Time2a"
        case .M_ST_TB_1: "step position information with time tag CP56Time2a"
        case .M_BO_TB_1: "bitstring of 32 bit with time tag CP56Time2a"
        case .M_ME_TD_1: "measured value, normalized value with time tag CP56Time2a"
        case .M_ME_TE_1: "measured value, scaled value with time tag CP56Time2a"
        case .M_ME_TF_1: "measured value, short floating point with time tag CP56Time2a"
        case .M_IT_TB_1: "integrated totals with time tag CP56Time2a"
        case .M_EP_TD_1: "event of protection equipment with time tag CP56Time2a"
        case .M_EP_TE_1: "packed start events of protection equipment with time tag CP56Time2a"
        case .M_EP_TF_1: "packed output circuit information of protection equipment with time tag CP56Time2a"
        case .M_EI_NA_1: "end of initialization"
        case .C_SC_NA_1: "single command"
        case .C_DC_NA_1: "double command"
        case .C_RC_NA_1: "regulating step command"
        case .C_SE_NA_1: "set-point command, normalized value"
        case .C_SE_NB_1: "set-point command, scaled value"
        case .C_SE_NC_1: "set-point command, short floating point"
        case .C_BO_NA_1: "bitstring of 32 bit command"
        case .C_SC_TA_1: "single command with time tag CP56Time2a"
        case .C_DC_TA_1: "double command with time tag CP56Time2a"
        case .C_RC_TA_1: "regulating step command with time tag CP56Time2a"
        case .C_SE_TA_1: "set-point command, normalized value, with time tag CP56Time2a"
        case .C_SE_TB_1: "set-point command, scaled value, with time tag CP56Time2a"
        case .C_SE_TC_1: "set-point command, short floating point, with time tag CP56Time2a"
        case .C_BO_TA_1: "bitstring of 32 bit command with time tag CP56Time2a"
        case .C_IC_NA_1: "interrogation command"
        case .C_CI_NA_1: "counter interrogation command"
        case .C_RD_NA_1: "read command"
        case .C_CS_NA_1: "clock synchronization command"
        case .C_TS_NA_1: "test command (not used in IEC 60870-5-104)"
        case .C_RP_NA_1: "reset process command"
        case .C_CD_NA_1: "delay acquisition command"
        case .C_TS_TA_1: "test command with time tag CP56Time2a"
        case .P_ME_NA_1: "parameter of measured value, normalized value"
        case .P_ME_NB_1: "parameter of measured value, scaled value"
        case .P_ME_NC_1: "parameter of measured value, short floating point"
        case .P_AC_NA_1: "parameter activation"
        case .F_FR_NA_1: "file ready"
        case .F_SR_NA_1: "section ready"
        case .F_SC_NA_1: "call directory, select file, call file, call section"
        case .F_LS_NA_1: "last section, last segment"
        case .F_AF_NA_1: "ack file, ack section"
        case .F_SG_NA_1: "segment"
        case .F_DR_TA_1: "directory"
        case .F_SC_NB_1: "query log, request archive file"
        }
    }
}

extension TypeID: CustomStringConvertible {
    public var description: String { "\(mnemonic) (\(rawValue))" }
}
