import Testing

@testable import MediaVaultCore

@Suite("Client address behind trusted proxies")
struct ClientAddressTests {
    @Test("the entry written by the outermost trusted proxy is the client; client-supplied entries are ignored")
    func forwardedFor() {
        let address = ClientAddressMiddleware.clientAddress
        #expect(address(["203.0.113.9"], "10.0.0.1", 1) == "203.0.113.9")
        #expect(address(["6.6.6.6, 203.0.113.9"], "10.0.0.1", 1) == "203.0.113.9", "a forged first entry is skipped")
        #expect(address(["6.6.6.6, 203.0.113.9, 10.0.0.2"], "10.0.0.1", 2) == "203.0.113.9")
        #expect(address(["6.6.6.6", "203.0.113.9"], "10.0.0.1", 1) == "203.0.113.9", "repeated headers are one list")
        #expect(address([], "10.0.0.1", 1) == "10.0.0.1")
    }
}
