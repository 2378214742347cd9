public import Outstation

/// CA:IOA as most tests write it: CA 47 unless said otherwise.
public func address(_ ioa: UInt32, ca: UInt16 = 47) -> PointAddress {
    PointAddress(commonAddress: ca, objectAddress: ioa)
}
