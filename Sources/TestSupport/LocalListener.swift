import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener on 127.0.0.1, on a port the kernel picks, that counts the connections made to it.
///
/// Connections complete in the kernel's backlog without an accept(), so counting after the fact sees them all.
public final class LocalListener: @unchecked Sendable {
    public let port: UInt16
    private let socketFD: Int32
    private let lock = NSLock()
    private var accepted = 0

    public init() throws {
        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw ListenerError(step: "socket", code: errno) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw ListenerError(step: "bind/listen", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let code = errno
            close(fd)
            throw ListenerError(step: "getsockname", code: code)
        }
        socketFD = fd
        port = UInt16(bigEndian: actual.sin_port)
    }

    deinit {
        close(socketFD)
    }

    /// Connections made so far, taken from the backlog without blocking.
    public func acceptedConnections() -> Int {
        lock.withLock {
            while true {
                var request = pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)
                guard poll(&request, 1, 0) > 0 else { break }
                let client = accept(socketFD, nil, nil)
                guard client >= 0 else { break }
                close(client)
                accepted += 1
            }
            return accepted
        }
    }

    /// Connects to the listener once, as a client would; true when the connection was made.
    public func connectOnce() -> Bool {
        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = Self.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamType = SOCK_STREAM
    #endif
}

public struct ListenerError: Error {
    public var step: String
    public var code: Int32
}
