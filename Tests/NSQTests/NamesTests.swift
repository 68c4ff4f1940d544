import Testing

@testable import NSQ

@Suite("Names")
struct NamesTests {
    @Test(arguments: ["a", "events", "user.signup_v2-x", "t#ephemeral", String(repeating: "x", count: 64)])
    func validNames(_ name: String) {
        #expect(NSQNames.isValidTopicName(name))
        #expect(NSQNames.isValidChannelName(name))
    }

    @Test(arguments: [
        "", "has space", "slash/", "colon:", "ünicode", "#ephemeral", "a#ephemeralx", "a#b",
        String(repeating: "x", count: 65), String(repeating: "x", count: 55) + "#ephemeral",
    ])
    func invalidNames(_ name: String) {
        #expect(!NSQNames.isValidTopicName(name))
        #expect(!NSQNames.isValidChannelName(name))
    }

    @Test func addressParsing() throws {
        #expect(try NSQAddress(parsing: "127.0.0.1:4150") == NSQAddress(host: "127.0.0.1", port: 4150))
        #expect(try NSQAddress(parsing: "[::1]:4150") == NSQAddress(host: "::1", port: 4150))
        #expect(throws: NSQError.connectionFailed) { try NSQAddress(parsing: "nsqd") }
        #expect(throws: NSQError.connectionFailed) { try NSQAddress(parsing: "nsqd:0") }
        #expect(throws: NSQError.connectionFailed) { try NSQAddress(parsing: ":4150") }
    }
}
