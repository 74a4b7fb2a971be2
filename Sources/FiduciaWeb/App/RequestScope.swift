import FiduciaDomain
import Logging

/// What the current request knows about itself: its id, who is asking, from where, and its logger.
///
/// The middleware sets it as a task-local value, because the OpenAPI-generated handlers receive
/// only their typed input; every handler reads `RequestScope.current`.
public struct RequestScope: Sendable {
    public var requestID: String
    public var principal: Principal
    public var logger: Logger
    /// The client's IP address (the peer of the connection), when known.
    public var clientAddress: String? = nil
    /// Incident mode, when it is on (pages show a banner).
    public var incident: Incident? = nil

    @TaskLocal public static var current = RequestScope(requestID: "none", principal: .anonymous, logger: Logger(label: "fiducia"))
}
