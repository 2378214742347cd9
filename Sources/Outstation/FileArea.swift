/// A directory whose files the outstation serves by file transfer (IEC 60870-5-101 clause 7.4.11): the
/// validated `[files NAME]` section of the configuration.
///
/// Each file that matches ``patterns`` takes one information object address of ``objectAddresses`` under
/// ``commonAddress``: the lowest free one when the file first appears (oldest file first at start), kept while
/// the file exists.
public struct FileArea: Hashable, Sendable {
    /// The largest length of file LOF can carry (three octets).
    public static let largestFile = 0xFF_FFFF
    /// NOS is one octet and section 0 is not used.
    public static let largestSectionCount = 255

    public var name: String
    /// An absolute path.
    public var directory: String
    public var commonAddress: UInt16
    public var objectAddresses: ClosedRange<UInt32>
    /// NOF of every file of the area (`name_of_file`); 1 unless configured, the "transparent file" of many masters.
    public var nameOfFile: UInt16
    /// Shell-style globs on the file name (`*`, `?`, `[...]`); a file is listed if any matches. Names that start
    /// with a dot are never listed, so a writer can fill `.name` and rename it when complete.
    public var patterns: [String]
    /// Larger files are not listed.
    public var maximumFileSize: Int
    /// Octets per section (the last is shorter); at most 255 sections make a file.
    public var sectionSize: Int
    /// Whether a master may delete a file (F_SC_NA_1 with SCQ "delete file").
    public var allowDelete: Bool
    /// How often the directory is read for new, changed and removed files.
    public var scanInterval: Duration

    public init(name: String, directory: String, commonAddress: UInt16, objectAddresses: ClosedRange<UInt32>,
                nameOfFile: UInt16 = 1, patterns: [String] = ["*"], maximumFileSize: Int? = nil,
                sectionSize: Int = 65536, allowDelete: Bool = false, scanInterval: Duration = .seconds(2)) {
        self.name = name
        self.directory = directory
        self.commonAddress = commonAddress
        self.objectAddresses = objectAddresses
        self.nameOfFile = nameOfFile
        self.patterns = patterns
        self.sectionSize = sectionSize
        self.maximumFileSize = maximumFileSize ?? Self.largestFileSize(sectionSize: sectionSize)
        self.allowDelete = allowDelete
        self.scanInterval = scanInterval
    }

    /// What 255 sections of `sectionSize` hold, at most what LOF can say.
    public static func largestFileSize(sectionSize: Int) -> Int {
        min(largestFile, largestSectionCount * sectionSize)
    }
}
