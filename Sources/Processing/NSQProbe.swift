import MediaVaultCore
import NIOCore
import NIOPosix

/// Whether at least one nsqd accepts TCP connections; used by `/readyz`, where NSQ being down is reported but
/// does not make the gateway unready (uploads keep being accepted into the outbox).
public enum NSQProbe {
    public static func check(addresses: [String]) async throws {
        var lastError: (any Error)?
        for address in addresses {
            guard let (host, port) = CoreConfiguration.hostAndPort(address, defaultPort: 4150) else { continue }
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.seconds(1))
                    .connect(host: host, port: port).get()
                try await channel.close()
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? AppError.unavailable("no nsqd address configured")
    }
}
