public import IEC104

/// File transfer in monitor direction (IEC 60870-5-101 clause 7.4.11): the outstation offers the files of its
/// `[files NAME]` areas, the master fetches them. Control direction (files from the master) is not supported.
extension StationRequestTable {
    /// Which way a file transfer type goes between the outstation and the master.
    public enum FileTransferRole: String, Sendable {
        /// The outstation sends it.
        case sent
        /// The master sends it; the outstation answers.
        case received
        /// Both: e.g. F_AF_NA_1, a master's acknowledgement and the outstation's answer to a delete.
        case sentAndReceived = "sent and received"
    }

    /// A file transfer type the outstation uses once it has a `[files NAME]` area, with the causes it carries.
    public struct FileTransferUse: Sendable {
        public var typeID: TypeID
        public var role: FileTransferRole
        /// In either direction, negative confirmations (COT 44–47, P/N set) not included.
        public var causes: [Cause]
    }

    /// The file transfer types and their causes: F_DR_TA_1 spontaneous (a file appears, changes or goes) and in
    /// reply to a call directory (COT 5); the rest of the procedure with COT 13 (file transfer). F_SC_NB_1 (query
    /// log) is refused with COT 44.
    public static let fileTransfer: [FileTransferUse] = [
        FileTransferUse(typeID: .F_FR_NA_1, role: .sent, causes: [.fileTransfer]),
        FileTransferUse(typeID: .F_SR_NA_1, role: .sent, causes: [.fileTransfer]),
        FileTransferUse(typeID: .F_SC_NA_1, role: .received, causes: [.request, .fileTransfer]),
        FileTransferUse(typeID: .F_LS_NA_1, role: .sent, causes: [.fileTransfer]),
        FileTransferUse(typeID: .F_AF_NA_1, role: .sentAndReceived, causes: [.fileTransfer]),
        FileTransferUse(typeID: .F_SG_NA_1, role: .sent, causes: [.fileTransfer]),
        FileTransferUse(typeID: .F_DR_TA_1, role: .sent, causes: [.spontaneous, .request]),
    ]
}
