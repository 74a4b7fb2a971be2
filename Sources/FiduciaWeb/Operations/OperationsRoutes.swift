import FiduciaPersistence
import FiduciaServices
import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// `/health` (the process answers), `/ready` (the database answers and its schema is current) and
/// `/metrics` (Prometheus text).
struct OperationsRoutes: Sendable {
    let services: AppServices
    let metrics: HTTPMetrics

    func register(on router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in
            Self.json(#"{"status":"ok"}"#)
        }
        router.get("/ready") { _, _ in
            let reachable = await services.store.database.isReachable()
            let current = reachable ? ((try? await Migrator(database: services.store.database).isCurrent()) ?? false) : false
            guard reachable, current else {
                var response = Self.json(#"{"status":"unavailable","database":"\#(reachable ? "schema not current" : "unreachable")"}"#)
                response.status = .serviceUnavailable
                return response
            }
            return Self.json(#"{"status":"ready","database":"\#(services.store.kind.rawValue)"}"#)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
            )
        }
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
