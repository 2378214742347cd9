import Config

/// Feeds the input to the configuration loader as the daemon config (INI), a JSON point table or
/// an INI point table, chosen by the first byte. Loading must end in a configuration or in errors
/// that name a place — never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let daemon = """
        [daemon]
        point_tables = points.json, extra.ini
        [listener main]
        bind = 127.0.0.1:2404
        [station s]
        allow = any
        """
    let points = #"{"points":[{"ca":47,"ioa":1,"type":"single"}]}"#
    let extra = "[point 47:2]\ntype = float\n"
    var files = ["/fuzz/rtu104d.conf": daemon, "/fuzz/points.json": points, "/fuzz/extra.ini": extra]
    switch data[0] % 3 {
    case 0: files["/fuzz/rtu104d.conf"] = text
    case 1: files["/fuzz/points.json"] = text
    default: files["/fuzz/extra.ini"] = text
    }
    let result = ConfigurationLoader.load(configPath: "/fuzz/rtu104d.conf") { path in
        guard let contents = files[path] else { return .failure(ConfigurationLoader.FileReadError("no such file")) }
        return .success(contents)
    }
    if case .failure(let problems) = result {
        if problems.errors.isEmpty { fatalError("a failed load without an error") }
        for error in problems.errors where error.description.isEmpty { fatalError("an empty error message") }
    }
    return 0
}
