import FiduciaDomain
import Foundation
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
    let operations: DeclaredOperations

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
            // SQLite (SQLiteNIO) reads text only up to a NUL character, so a NUL would silently cut
            // a stored text short (the rating log caught a reply shown shorter than it was logged):
            // text with U+0000 is refused here, where every body passes, for the API (as its
            // document says) and for the pages' forms alike.
            if Self.carriesNUL(body, contentType: request.headers[.contentType]) {
                throw WebError.malformedRequest("Text may not contain the NUL character (U+0000).")
            }
            // No field of the API takes null, but the generated decoder reads a null as a field
            // left out, which would let `{"shipWithinHours": null}` through as valid: refused here.
            // Payment providers' webhooks are theirs to shape and are left alone.
            if request.uri.path.hasPrefix("/v1/"), !request.uri.path.hasPrefix("/v1/webhooks/"),
                request.headers[.contentType]?.lowercased().contains("json") == true, Self.containsNullLiteral(body)
            {
                throw WebError.malformedRequest("No field takes null: leave out a field you do not want to set.")
            }
            if request.headers[.contentType]?.lowercased().contains("json") == true,
                let shape = operations.bodyShape(method: request.method, path: request.uri.path),
                let value = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)),
                let violation = shape.violation(in: value)
            {
                throw violation
            }
            if body.readableBytes == 0, request.headers[.contentType] == nil, request.uri.path.hasPrefix("/v1/") {
                var head = request.head
                head.headerFields[.contentType] = "application/json"
                request = Request(head: head, body: .init(buffer: ByteBuffer(string: "{}")))
            }
        }
        return try await next(request, context)
    }

    /// Whether a JSON or form body carries a NUL character: `\u0000` in JSON (the only way JSON
    /// can), `%00` in a form.
    static func carriesNUL(_ body: ByteBuffer, contentType: String?) -> Bool {
        guard let type = contentType?.lowercased() else { return false }
        if type.contains("json") { return containsEscapedNUL(body) }
        if type.hasPrefix("application/x-www-form-urlencoded") {
            return body.readableBytesView.firstRange(of: Array("%00".utf8)) != nil
        }
        return false
    }

    /// Whether JSON text holds the literal `null` outside a string (one pass, no parsing).
    static func containsNullLiteral(_ body: ByteBuffer) -> Bool {
        var inString = false
        var escaped = false
        let bytes = body.readableBytesView
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "n"), bytes[index...].starts(with: Array("null".utf8)) {
                return true
            }
            index = bytes.index(after: index)
        }
        return false
    }

    /// Whether JSON text holds `\u0000`, an escape rather than an escaped backslash followed by "u0000".
    static func containsEscapedNUL(_ body: ByteBuffer) -> Bool {
        let bytes = body.readableBytesView
        let pattern = Array("u0000".utf8)
        var index = bytes.startIndex
        while let found = bytes[index...].firstIndex(of: UInt8(ascii: "u")) {
            index = bytes.index(after: found)
            guard bytes[found...].starts(with: pattern) else { continue }
            var backslashes = 0
            var before = found
            while before > bytes.startIndex, bytes[bytes.index(before: before)] == UInt8(ascii: "\\") {
                backslashes += 1
                before = bytes.index(before: before)
            }
            if backslashes % 2 == 1 { return true }
        }
        return false
    }
}
