import FiduciaDomain
import FiduciaServices
import HTTPTypes
import Hummingbird
import NIOCore

/// `Idempotency-Key` on API POSTs: the first request with a key runs and its response is stored;
/// a retry with the same key and body gets the stored response (marked `Idempotent-Replayed: true`);
/// the same key with a different request gets 422; a retry while the first is still running gets 409.
///
/// Keys are scoped to the caller, so two clients cannot collide. Server errors (5xx) are not
/// stored: the key is released so that the retry runs again.
struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let idempotency: IdempotencyService
    let configuration: WebConfiguration
    /// These POSTs return a fresh secret each time, which must not be stored for replay.
    static var exemptPaths: Set<String> { ["/v1/sessions", "/v1/api-clients"] }
    /// The only POST anyone may send without signing in. Any other unauthenticated request is
    /// refused by its handler before a key is claimed or an answer stored: strangers share the
    /// anonymous scope, and a stored 401 would say nothing useful to a retry.
    static var anonymousPaths: Set<String> { ["/v1/users"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, request.uri.path.hasPrefix("/v1/"), !Self.exemptPaths.contains(request.uri.path),
            let key = request.headers[.idempotencyKey],
            RequestScope.current.principal != .anonymous || Self.anonymousPaths.contains(request.uri.path)
        else {
            return try await next(request, context)
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (33...126).contains($0) }) else {
            throw WebError.idempotencyKeyInvalid
        }
        var request = request
        let body = try await request.collectBody(upTo: configuration.bodyLimit(path: request.uri.path, contentType: request.headers[.contentType]))
        var fingerprint = Array("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8)
        fingerprint.append(contentsOf: body.readableBytesView)
        let requestHash = SecretToken.sha256Hex(fingerprint)
        let scope = RequestScope.current.principal.scopeKey

        switch try await idempotency.claim(scope: scope, key: key, requestHash: requestHash) {
        case .replay(let stored):
            var headers = HTTPFields()
            for (name, value) in stored.headers {
                if let name = HTTPField.Name(name) { headers[name] = value }
            }
            headers[.idempotentReplayed] = "true"
            return Response(status: .init(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        case .requestMismatch:
            throw WebError.idempotencyKeyReused
        case .inProgress:
            throw WebError.idempotencyKeyInUse
        case .claimed:
            break
        }

        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Named errors are answers too and are stored like any other; unknown ones are server
            // errors, and transient ones (a payment still being settled) may come out otherwise
            // later: for those the key is released so that a retry runs again.
            let problem = Problem.from(error, logger: RequestScope.current.logger)
            guard problem.status < 500, !((error as? any DomainError)?.isTransient ?? false) else {
                try await idempotency.release(scope: scope, key: key)
                throw error
            }
            let problemResponse = problem.response(requestID: RequestScope.current.requestID)
            return try await store(problemResponse, scope: scope, key: key)
        }
        guard response.status.code < 500 else {
            try await idempotency.release(scope: scope, key: key)
            return response
        }
        return try await store(response, scope: scope, key: key)
    }

    /// Reads the response body, stores the response under the key, and returns an equal response.
    private func store(_ response: Response, scope: String, key: String) async throws -> Response {
        let collector = BodyCollector()
        try await response.body.write(collector)
        let bytes = collector.bytes()
        var headers: [String: String] = [:]
        for field in response.headers where field.name != .requestID {
            headers[field.name.canonicalName] = field.value
        }
        try await idempotency.complete(scope: scope, key: key, response: StoredResponse(status: response.status.code, headers: headers, body: bytes))
        return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A response body writer that keeps what is written (API responses are small JSON documents).
private struct BodyCollector: ResponseBodyWriter {
    private final class Storage: @unchecked Sendable {
        var buffer = ByteBuffer()
    }
    private let storage = Storage()

    func bytes() -> [UInt8] { Array(storage.buffer.readableBytesView) }

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        storage.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
