import HTTPTypes
import Hummingbird

/// Refuses request bodies over the limit before anything reads them, and collects the body so
/// that later middleware (idempotency) and handlers see the same bytes.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maximumBytes {
            throw WebError.bodyTooLarge(limitBytes: maximumBytes)
        }
        var request = request
        if request.method != .get && request.method != .head {
            do {
                _ = try await request.collectBody(upTo: maximumBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw WebError.bodyTooLarge(limitBytes: maximumBytes)
            }
        }
        return try await next(request, context)
    }
}
