import FiduciaDomain
import FiduciaServices
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAPIRuntime

/// `Idempotency-Key` on API POSTs: the first request with a key runs and its response is stored;
/// a retry with the same key and body gets the stored response (marked `Idempotent-Replayed: true`);
/// the same key with a different request gets 422; a retry while the first is still running waits
/// for it (or gets 409 if the first committed part of its work early and is still busy).
///
/// The request runs in a unit of work (`IdempotencyService.unit`): its first write claims the key
/// and its answer is stored in the same transaction as its writes, so that no crash can leave a
/// done request without its answer. Keys are scoped to the caller, so two clients cannot collide;
/// the two anonymous POSTs (sign-up and log-in) are scoped by their whole request, so strangers
/// never share a key. Server errors (5xx) are not stored: the request is rolled back and the key
/// freed, so that a retry runs again.
struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let idempotency: IdempotencyService
    let configuration: WebConfiguration
    /// A key is looked at only for a POST the API declares: any other gets its 404 or 405 as if
    /// it carried no key.
    let operations: DeclaredOperations
    /// The only POSTs anyone may send without signing in. Any other unauthenticated request is
    /// refused by its handler before a key is looked at: a stored 401 would say nothing useful.
    static var anonymousPaths: Set<String> { ["/v1/users", "/v1/sessions"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = RequestScope.current.principal
        // A PUT is idempotent by itself; the key it may carry is still checked, as the document says.
        if request.method != .post, let key = request.headers[.idempotencyKey], !Self.isWellFormed(key),
            operations.allowedMethods(path: request.uri.path).contains(request.method) {
            throw WebError.idempotencyKeyInvalid
        }
        guard request.method == .post, request.uri.path.hasPrefix("/v1/"),
            let key = request.headers[.idempotencyKey],
            principal != .anonymous || Self.anonymousPaths.contains(request.uri.path),
            operations.allowedMethods(path: request.uri.path).contains(.post)
        else {
            return try await next(request, context)
        }
        guard Self.isWellFormed(key) else { throw WebError.idempotencyKeyInvalid }
        var request = request
        let body = try await request.collectBody(upTo: configuration.bodyLimit(path: request.uri.path, contentType: request.headers[.contentType]))
        var fingerprint = Array("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8)
        fingerprint.append(contentsOf: body.readableBytesView)
        let requestHash = SecretToken.sha256Hex(fingerprint)
        let scope = principal == .anonymous ? "anonymous:\(requestHash)" : principal.scopeKey

        // A request that lost the race for its key between the lookup and its first write looks
        // again: by then the winner has committed, and its answer is there to replay.
        for _ in 0..<3 {
            if let found = try await idempotency.lookup(scope: scope, key: key, requestHash: requestHash) {
                return try answer(found)
            }
            do {
                return try await run(request, context: context, next: next, scope: scope, key: key, requestHash: requestHash)
            } catch let lost as IdempotencyService.ClaimLost where lost.claim != .inProgress {
                return try answer(lost.claim)
            } catch is IdempotencyService.ClaimLost {
                continue
            }
        }
        throw WebError.idempotencyKeyInUse
    }

    /// 1 to 255 printable ASCII characters, no spaces: the document's pattern.
    static func isWellFormed(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { (33...126).contains($0) }
    }

    private func answer(_ claim: IdempotencyClaim) throws -> Response {
        switch claim {
        case .replay(let stored):
            var headers = HTTPFields()
            for (name, value) in stored.headers {
                if let name = HTTPField.Name(name) { headers[name] = value }
            }
            headers[.idempotentReplayed] = "true"
            return Response(status: .init(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        case .requestMismatch:
            throw WebError.idempotencyKeyReused
        case .inProgress, .claimed:
            throw WebError.idempotencyKeyInUse
        }
    }

    private func run(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response, scope: String, key: String, requestHash: String
    ) async throws -> Response {
        let unit = idempotency.unit(scope: scope, key: key, requestHash: requestHash)
        let outcome: Result<(response: Response, body: [UInt8]), any Error>
        do {
            // The body is read inside the unit too: the response's bytes are stored before commit.
            outcome = .success(try await idempotency.run(in: unit) { try await collected(next(request, context)) })
        } catch {
            // The OpenAPI layer wraps what handlers throw.
            if let lost = (error as? IdempotencyService.ClaimLost) ?? ((error as? ServerError)?.underlyingError as? IdempotencyService.ClaimLost) {
                throw lost
            }
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let answer) where answer.response.status.code < 500:
            return try await store(answer, in: unit, scope: scope, key: key)
        case .success(let answer):
            try await idempotency.abandon(unit, scope: scope, key: key)
            return answer.response
        case .failure(let error):
            // Named errors are answers too and are stored like any other; unknown ones are server
            // errors, rolled back with the key freed. Transient ones (a payment still being
            // settled) keep the request's writes but free the key: a retry may be answered otherwise.
            let problem = Problem.from(error, logger: RequestScope.current.logger)
            if problem.status >= 500 && !((error as? any DomainError)?.isTransient ?? false) {
                try await idempotency.abandon(unit, scope: scope, key: key)
                throw error
            }
            if (error as? any DomainError)?.isTransient ?? false {
                try await idempotency.commitWithoutAnswer(unit, scope: scope, key: key)
                throw error
            }
            let response = try await collected(problem.response(requestID: RequestScope.current.requestID))
            return try await store(response, in: unit, scope: scope, key: key)
        }
    }

    /// Stores the response under the key with the request's writes, and commits them.
    private func store(_ answer: (response: Response, body: [UInt8]), in unit: IdempotencyService.Unit, scope: String, key: String) async throws -> Response {
        var headers: [String: String] = [:]
        for field in answer.response.headers where field.name != .requestID {
            headers[field.name.canonicalName] = field.value
        }
        let stored = StoredResponse(status: answer.response.status.code, headers: headers, body: answer.body)
        try await idempotency.complete(unit, scope: scope, key: key, response: stored)
        return answer.response
    }

    /// Reads a response's body (API responses are small JSON documents) and returns an equal
    /// response with the bytes.
    private func collected(_ response: Response) async throws -> (response: Response, body: [UInt8]) {
        let collector = BodyCollector()
        try await response.body.write(collector)
        let bytes = collector.bytes()
        return (Response(status: response.status, headers: response.headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes))), bytes)
    }
}

/// A response body writer that keeps what is written.
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
