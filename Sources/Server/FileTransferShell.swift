import IEC104
import Logging
import NIOCore
import NIOPosix
import Outstation

/// File transfer in the server shell: each `[files]` area's directory is scanned every `scan_interval`, sections are
/// read and files deleted when a station asks; the blocking calls run on one thread of their own and their
/// results come back to the event loop, where the outstation takes them.
extension OutstationRuntime {
    /// Starts, changes or stops the scans to fit the outstation's areas. Called at start and after every reload.
    func updateFileTransfer() {
        let areas = outstation.files.areas
        for (name, task) in fileScanTasks where !areas.contains(where: { $0.name == name }) {
            task.cancel()
            fileScanTasks[name] = nil
        }
        guard !areas.isEmpty else {
            stopFileTransfer()
            return
        }
        if fileThread == nil {
            let thread = NIOThreadPool(numberOfThreads: 1)
            thread.start()
            fileThread = thread
            let list = areas.map { area in
                "\(area.name) (\(area.directory), CA \(area.commonAddress), IOA "
                    + "\(area.objectAddresses.lowerBound)-\(area.objectAddresses.upperBound))"
            }.joined(separator: ", ")
            logger.info("file transfer: \(areas.count) area\(areas.count == 1 ? "" : "s") served: \(list)")
        }
        for area in areas {
            fileScanTasks[area.name]?.cancel()
            let runtime = NIOLoopBound(self, eventLoop: eventLoop)
            let name = area.name
            fileScanTasks[area.name] = eventLoop.scheduleRepeatedTask(initialDelay: .zero,
                                                                      delay: TimeAmount(area.scanInterval)) { _ in
                runtime.value.scanFiles(area: name)
            }
        }
    }

    func stopFileTransfer() {
        for (_, task) in fileScanTasks { task.cancel() }
        fileScanTasks.removeAll()
        fileThread?.shutdownGracefully { _ in }
        fileThread = nil
    }

    /// Runs `work` on the file thread and `completion` on the event loop with its result.
    private func onFileThread<Result: Sendable>(_ work: @escaping @Sendable () -> Result,
                                                 then completion: @escaping (OutstationRuntime, Result) -> Void) {
        guard let thread = fileThread else { return }
        let runtime = NIOLoopBound(self, eventLoop: eventLoop)
        let done = NIOLoopBound(completion, eventLoop: eventLoop)
        thread.runIfActive(eventLoop: eventLoop, work).whenSuccess { result in
            done.value(runtime.value, result)
        }
    }

    private func scanFiles(area name: String) {
        guard let area = outstation.files.areas.first(where: { $0.name == name }) else { return }
        onFileThread({ FileSystemAccess.scan(area) }) { runtime, result in
            runtime.applyScan(result, area: area)
        }
    }

    private func applyScan(_ result: Result<FileSystemAccess.DirectoryScan, FileSystemAccess.ScanFailure>, area: FileArea) {
        guard outstation.files.areas.contains(area) else { return }
        let fields: Logger.Metadata = ["area": "\(area.name)", "ca": "\(area.commonAddress)"]
        let scan: FileSystemAccess.DirectoryScan
        let complete: Bool
        switch result {
        case .failure(let failure):
            if fileScanFailures[area.name] != failure.reason {
                let text = "file transfer: cannot read directory \(area.directory): \(failure.reason); "
                    + "its files are not listed until it can"
                logger.warning("\(text)", metadata: fields)
                fileScanFailures[area.name] = failure.reason
            }
            scan = FileSystemAccess.DirectoryScan(files: [], tooLarge: [])
            complete = false
        case .success(let found):
            if fileScanFailures.removeValue(forKey: area.name) != nil {
                logger.notice("file transfer: directory \(area.directory) can be read again", metadata: fields)
            }
            scan = found
            complete = true
        }
        let newlyTooLarge = Set(scan.tooLarge).subtracting(filesReportedTooLarge[area.name] ?? [])
        for name in newlyTooLarge.sorted() {
            let text = "file transfer: \(area.name)/\(name) is not listed: larger than max_file_size "
                + "(\(area.maximumFileSize) octets)"
            logger.warning("\(text)", metadata: fields)
        }
        filesReportedTooLarge[area.name] = Set(scan.tooLarge)
        let (change, stationActions) = outstation.applyFileScan(scan.files, area: area.name, complete: complete,
                                                                 now: SystemClock.monotonicNow())
        if let change { logCatalogChange(change, area: area) }
        for (station, actions) in stationActions { perform(actions, station: station) }
    }

    private func logCatalogChange(_ change: CatalogChange, area: FileArea) {
        for file in change.added {
            logger.notice("file transfer: \(area.name)/\(file.name) listed at \(file.address), \(file.sizeText)",
                          metadata: ["area": "\(area.name)", "ca": "\(file.address.commonAddress)",
                                     "ioa": "\(file.address.objectAddress)"])
        }
        for file in change.changed {
            logger.info("file transfer: \(area.name)/\(file.name) at \(file.address) changed, now \(file.sizeText)",
                        metadata: ["area": "\(area.name)", "ca": "\(file.address.commonAddress)",
                                   "ioa": "\(file.address.objectAddress)"])
        }
        for file in change.removed {
            logger.notice("file transfer: \(area.name)/\(file.name) at \(file.address) is gone from the directory",
                          metadata: ["area": "\(area.name)", "ca": "\(file.address.commonAddress)",
                                     "ioa": "\(file.address.objectAddress)"])
        }
        for name in change.unlisted {
            let text = "file transfer: \(area.name)/\(name) is not listed: every address of IOA "
                + "\(area.objectAddresses.lowerBound)-\(area.objectAddresses.upperBound) is taken"
            logger.warning("\(text)", metadata: ["area": "\(area.name)", "ca": "\(area.commonAddress)"])
        }
    }

    func readFileSection(_ read: FileSectionRead) {
        guard fileThread != nil else {
            completeRead(read, result: .failed("file transfer is stopping"))
            return
        }
        onFileThread({ FileSystemAccess.read(read) }) { runtime, result in
            runtime.completeRead(read, result: result)
        }
    }

    private func completeRead(_ read: FileSectionRead, result: FileReadResult) {
        guard let (station, actions) = outstation.fileSectionRead(read, result: result, now: SystemClock.monotonicNow()) else {
            return
        }
        perform(actions, station: station)
    }

    func deleteFile(_ deletion: FileDeletion) {
        onFileThread({ FileSystemAccess.delete(deletion.file) }) { runtime, failure in
            for (station, actions) in runtime.outstation.fileDeleted(deletion, failure: failure, now: SystemClock.monotonicNow()) {
                runtime.perform(actions, station: station)
            }
        }
    }

    /// A reload's areas: the catalog drops what changed, the scans restart.
    func replaceFileAreas(_ areas: [FileArea]) {
        for (station, actions) in outstation.replaceFileAreas(areas, now: SystemClock.monotonicNow()) {
            perform(actions, station: station)
        }
        updateFileTransfer()
    }
}
