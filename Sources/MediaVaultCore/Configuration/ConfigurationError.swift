/// Start-up configuration problems, one readable line each, naming the setting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]

    public init(problems: [String]) {
        self.problems = problems
    }

    public var description: String {
        problems.map { "configuration error: \($0)" }.joined(separator: "\n")
    }
}
