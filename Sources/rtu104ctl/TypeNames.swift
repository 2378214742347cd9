import IEC104

/// The standard's mnemonic of each type ID.
///
/// Spelled out here because `TypeID.mnemonic` in the codec (`String(describing: self)`) and
/// `TypeID.description` (built from `mnemonic`) call each other until the stack overflows.
/// Once the codec is fixed this can return `typeID.mnemonic`.
enum TypeNames {
    static func mnemonic(_ typeID: TypeID) -> String {
        switch typeID {
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
        }
    }

    /// The codec's message for an ASDU error, without the cases that reach `TypeID.mnemonic`.
    static func describe(_ error: ASDUError) -> String {
        switch error {
        case .objectCountMismatch(let typeID, let declared, let expected, let actual):
            "\(mnemonic(typeID)) declares \(declared) object(s), which take \(expected) octets, but the ASDU has \(actual)"
        default:
            error.description
        }
    }
}
