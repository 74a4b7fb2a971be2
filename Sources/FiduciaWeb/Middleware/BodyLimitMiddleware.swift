import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses request bodies over the limit before anything reads them, and collects the body so
/// that later middleware (idempotency) and handlers see the same bytes.
///
/// An API request with no body at all (no bytes, no Content-Type), such as `POST .../cancellation`
/// with nothing to add, is read as the empty JSON object: the generated server would otherwise try
/// to decode zero bytes as JSON for operations whose body is optional.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let configuration: WebConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let maximumBytes = configuration.bodyLimit(path: request.uri.path, contentType: request.headers[.contentType])
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maximumBytes {
            throw WebError.bodyTooLarge(limitBytes: maximumBytes)
        }
        var request = request
        if request.method != .get && request.method != .head {
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maximumBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw WebError.bodyTooLarge(limitBytes: maximumBytes)
            }
            if body.readableBytes == 0, request.headers[.contentType] == nil, request.uri.path.hasPrefix("/v1/") {
                var head = request.head
                head.headerFields[.contentType] = "application/json"
                request = Request(head: head, body: .init(buffer: ByteBuffer(string: "{}")))
            }
        }
        return try await next(request, context)
    }
}
