#if canImport(Glibc)
import Glibc
#endif

/// Hands memory that loading a configuration freed back to the system. glibc keeps freed heap pages for
/// reuse, so after the parse of a large point table (its located JSON tree, field readers, the duplicate check) the
/// daemon would go on holding its peak: 134 MiB instead of 74 MiB at 100k points. `malloc_trim` is looked up at
/// run time because glibc's <malloc.h> is not part of Swift's Glibc module; elsewhere this does nothing.
enum FreedMemory {
    static func returnToSystem() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
