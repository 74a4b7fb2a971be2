import Hummingbird
import NIOCore

/// The context of every request: Hummingbird's core, plus the address of the client's end of the
/// connection (log-in throttling counts per account *and* per address). Behind a reverse proxy it
/// is the proxy's address; Fiducia does not trust forwarded-for headers.
public struct FiduciaRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, if the connection has one.
    var clientAddress: String? { remoteAddress?.ipAddress }
}
