/// A listener whose address could not be bound, with the OS's reason.
public struct ListenerBindError: Error, CustomStringConvertible {
    public let listener: ListenerSettings
    public let underlying: Error

    public var description: String {
        "listener '\(listener.name)' cannot bind \(listener.host):\(listener.port): \(OperatorErrorText.text(for: underlying))"
    }
}
