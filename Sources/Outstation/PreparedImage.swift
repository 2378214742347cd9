/// What a reload needs of the image in force to prepare its successor elsewhere: the definitions (immutable
/// between reloads) and the generation they belong to.
public struct ImageBasis: Sendable {
    let generation: UInt64
    let definitions: [MonitorPointDefinition]
}

/// A reload's new process image and its correspondence with the image in force, made off the event loop
/// (``Outstation/prepareImage(points:basis:wallTime:)``) and handed to it whole
/// (``Outstation/reconfigure(prepared:stations:now:wallTime:)``), so that the loop only copies the values
/// over: building a 1,000,000-point image and matching it with the old one stalled the loop for 0.9 s.
///
/// `@unchecked Sendable`: the image is made by the preparing task and handed over once; nothing else holds it
/// until the event loop adopts it.
public struct PreparedImage: @unchecked Sendable {
    let image: ProcessImage
    /// The generation of the image in force it was matched against; if a reload came between, the loop
    /// matches again itself.
    let generation: UInt64
    /// For each index of `image`, the index of the same point (address and kind) in the old image, or -1.
    let oldIndexForNew: [Int32]
    /// Old index → new index, for the stations' buffered events.
    let indexMap: [Int32: Int32]
    let added: [Int32]
    let pointsChanged: Int

    public var pointCount: Int { image.count }
}

extension Outstation {
    /// The definitions of the image in force (call on the event loop; cheap).
    public var imageBasis: ImageBasis { ImageBasis(generation: imageGeneration, definitions: image.definitions) }

    /// Builds the image of `points` and matches it with `basis`; touches no state of a running outstation, so
    /// it runs on any thread.
    public static func prepareImage(points: PointTable, basis: ImageBasis, wallTime: Int64) -> PreparedImage {
        let image = ProcessImage(table: points, now: wallTime)
        let old = basis.definitions, new = image.definitions
        // Both are in ascending address order: one merge, no hashing.
        var oldIndexForNew = [Int32](repeating: -1, count: new.count)
        var indexMap: [Int32: Int32] = [:]
        indexMap.reserveCapacity(min(old.count, new.count))
        var added: [Int32] = []
        var changed = 0
        var position = 0
        for (index, definition) in new.enumerated() {
            while position < old.count, old[position].address < definition.address { position += 1 }
            if position < old.count, old[position].address == definition.address, old[position].kind == definition.kind {
                oldIndexForNew[index] = Int32(position)
                indexMap[Int32(position)] = Int32(index)
                if old[position] != definition { changed += 1 }
            } else {
                added.append(Int32(index))
            }
        }
        return PreparedImage(image: image, generation: basis.generation, oldIndexForNew: oldIndexForNew,
                             indexMap: indexMap, added: added, pointsChanged: changed)
    }
}
