import Foundation
import HTTPTypes
import Hummingbird

/// Where a 201 says its new resource is. The handlers set `Location` through the OpenAPI types,
/// whose runtime percent-encodes every header value (the `simple` style), turning
/// `/v1/orders/ord_1` into `%2Fv1%2Forders%2Ford_1`; this step gives the header back its plain
/// path. It runs inside the idempotency step, so a replayed answer carries the same header.
struct LocationHeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let location = response.headers[.location], location.hasPrefix("%2F"), let path = location.removingPercentEncoding {
            response.headers[.location] = path
        }
        return response
    }
}
