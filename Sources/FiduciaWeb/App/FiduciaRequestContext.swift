import Foundation
import Hummingbird
import NIOCore

/// The context of every request: Hummingbird's core, plus the address of the client's end of the
/// connection (log-in throttling counts per account *and* per address). Behind a reverse proxy it
/// is the proxy's address; `ClientAddress.resolve` then reads `X-Forwarded-For`, but only when the
/// proxy is one the operator named (`FIDUCIA_TRUSTED_PROXIES`).
public struct FiduciaRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// Who the client is, as far as the network tells.
enum ClientAddress {
    /// The client's address: the connection's peer, unless the peer is a trusted proxy, in which
    /// case the right-most address of `X-Forwarded-For` that is not itself a trusted proxy (the
    /// left-hand entries are whatever the client wrote, and prove nothing).
    static func resolve(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String? {
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last { !trusted.contains($0) } ?? peer
    }
}
