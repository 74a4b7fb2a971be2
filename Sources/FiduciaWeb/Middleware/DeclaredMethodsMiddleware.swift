import FiduciaAPI
import Foundation
import HTTPTypes
import Hummingbird
import Yams

/// The API's operations as the OpenAPI document declares them: which methods each path takes.
struct DeclaredOperations: Sendable {
    /// The document's paths under `/v1`, as segments (nil for a parameter), with their methods.
    let routes: [(segments: [String?], methods: Set<HTTPRequest.Method>)]

    /// The keys of a path item that name operations (the others are its summary, parameters, ...).
    static var operationKeys: Set<String> { ["get", "put", "post", "delete", "options", "head", "patch", "trace"] }

    init(document yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any], let paths = root["paths"] as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        routes = paths.compactMap { path, item in
            guard let item = item as? [String: Any] else { return nil }
            let methods = Set(item.keys.filter(Self.operationKeys.contains).compactMap { HTTPRequest.Method($0.uppercased()) })
            let segments: [String?] = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
            return (segments, methods)
        }
    }

    /// Every method some declared path matching `path` takes (`/users/me` matches both
    /// `/users/me` and `/users/{userId}`).
    func allowedMethods(path: String) -> Set<HTTPRequest.Method> {
        guard path.hasPrefix("/v1/") else { return [] }
        let segments = path.dropFirst("/v1".count).split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var allowed: Set<HTTPRequest.Method> = []
        for route in routes where route.segments.count == segments.count {
            if zip(route.segments, segments).allSatisfy({ literal, segment in literal.map { $0 == segment } ?? !segment.isEmpty }) {
                allowed.formUnion(route.methods)
            }
        }
        return allowed
    }
}

/// Answers `405 Method Not Allowed`, with `Allow`, for an API path that exists but not with the
/// request's method, as the OpenAPI document declares them (the router alone would say 404, as
/// if the path did not exist). It runs before authentication: which methods a path takes is
/// public, in the document.
struct DeclaredMethodsMiddleware<Context: RequestContext>: RouterMiddleware {
    let operations: DeclaredOperations

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && request.uri.path.hasPrefix("/v1/") {
            // Only when the router found no route: the common case pays nothing.
            let allowed = operations.allowedMethods(path: request.uri.path)
            let method = request.method == .head ? .get : request.method
            guard !allowed.isEmpty, !allowed.contains(method) else { throw error }
            var response = WebError.methodNotAllowed.problem.response(requestID: RequestScope.current.requestID)
            response.headers[.allow] = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            return response
        }
    }
}
