import Hummingbird

/// `{"success": true}`, as the original API answers deletions and logout.
public struct SuccessResponse: ResponseEncodable, Sendable {
    public let success: Bool

    public init(success: Bool = true) {
        self.success = success
    }
}
