/// Where a file was listed: kept in the state file and across a reload that changes its area, so that a file keeps
/// its address for as long as it exists, not only for as long as the daemon runs. A master that knows a record by
/// its address (and creation time) does not see it move, nor fetch it again as a new one.
public struct RememberedFileAddress: Hashable, Sendable {
    public var commonAddress: UInt16
    /// The area's directory, an absolute path: the area's name may change, its folder is what holds the file.
    public var directory: String
    public var name: String
    public var objectAddress: UInt32

    public init(commonAddress: UInt16, directory: String, name: String, objectAddress: UInt32) {
        self.commonAddress = commonAddress
        self.directory = directory
        self.name = name
        self.objectAddress = objectAddress
    }

    /// What a file is recognised by when it is listed again.
    struct Key: Hashable {
        var commonAddress: UInt16
        var directory: String
        var name: String

        /// The area a file belongs to, whatever its name: one common address and one folder.
        var folder: Folder { Folder(commonAddress: commonAddress, directory: directory) }
    }

    struct Folder: Hashable {
        var commonAddress: UInt16
        var directory: String
    }

    var key: Key { Key(commonAddress: commonAddress, directory: directory, name: name) }
}
