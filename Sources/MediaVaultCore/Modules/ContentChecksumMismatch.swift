/// A stored original is not the file whose SHA-256 its uploader declared. Media finds it at confirmation when the
/// store knows the stored object's SHA-256; the worker finds it after downloading when the store does not. Both fail
/// the item with the same ``reason``, and neither retries: another attempt reads the same bytes.
public struct ContentChecksumMismatch: Error, Sendable, Hashable, CustomStringConvertible {
    /// The SHA-256 declared when the upload was signed.
    public let declared: [UInt8]
    /// The SHA-256 of what was stored.
    public let stored: [UInt8]

    public init(declared: [UInt8], stored: [UInt8]) {
        self.declared = declared
        self.stored = stored
    }

    /// The item's error message, as users read it.
    public var reason: String {
        "checksum mismatch: the stored file's SHA-256 is \(Hex.encode(stored)), not the \(Hex.encode(declared)) "
            + "declared at upload; the file changed on its way to storage, so upload it again"
    }

    public var description: String { reason }
}
