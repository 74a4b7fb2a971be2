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

    func register(on router: Router<FiduciaRequestContext>) {
        router.get("/health") { _, _ in
            Self.json(#"{"status":"ok"}"#)
        }
        router.get("/ready") { _, _ in
            let readiness = await services.readiness()
            guard readiness.ready else {
                var response = Self.json(#"{"status":"unavailable","database":"\#(readiness.problem ?? "unavailable")"}"#)
                response.status = .serviceUnavailable
                return response
            }
            return Self.json(#"{"status":"ready","database":"\#(readiness.database)"}"#)
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
