import FiduciaDomain
import FiduciaServices
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let onBehalfOf = HTTPField.Name("Fiducia-On-Behalf-Of")!
}

/// Request counts and latencies by route and status, in Prometheus form.
public final class HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func record(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "fiducia", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by method, route and status."),
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "fiducia", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency by method and route."),
            labels: [("method", method), ("route", route)],
            buckets: Self.buckets
        ).record(duration)
    }
}

/// The outermost middleware: gives each request an id (kept from `X-Request-Id` when the caller
/// sends a sane one), a logger that carries it, one log line, and its metrics.
struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    static var forwardedFor: HTTPField.Name { HTTPField.Name("X-Forwarded-For")! }

    let metrics: HTTPMetrics
    let random: any RandomSource
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    var trustedProxies: Set<String> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = Self.acceptable(request.headers[.requestID]) ?? SecretToken.base64URL(random.bytes(12))
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.logger[metadataKey: "hb.request.id"] = nil
        let logger = context.logger
        let start = ContinuousClock.now
        let address = ClientAddress.resolve(
            peer: (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress,
            forwardedFor: request.headers[Self.forwardedFor], trusted: trustedProxies
        )
        let scope = RequestScope(requestID: requestID, principal: .anonymous, logger: logger, clientAddress: address)
        var response: Response
        do {
            // The audit log records where a privileged action came from.
            response = try await AuditContext.$clientAddress.withValue(address) {
                try await RequestScope.$current.withValue(scope) { try await next(request, context) }
            }
        } catch {
            // The problem middleware inside answers every error; this is the last line of defence.
            response = Problem.from(error, logger: logger).response(requestID: requestID)
        }
        response.headers[.requestID] = requestID
        let duration = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code, duration: duration)
        let milliseconds = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000
        logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: ["route": .string(route), "duration_ms": .string(String(format: "%.1f", milliseconds))]
        )
        return response
    }

    /// A caller's request id is kept only if it is short and plain, so it cannot pollute logs.
    static func acceptable(_ value: String?) -> String? {
        guard let value, (1...64).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
        else { return nil }
        return value
    }
}
