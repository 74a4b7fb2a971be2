import FiduciaAPI
import Foundation
import HTTPTypes
import Hummingbird
import Yams

/// The API's operations as the OpenAPI document declares them: which methods each path takes.
struct DeclaredOperations: Sendable {
    /// The document's paths under `/v1`, as segments (nil for a parameter), with their methods.
    let routes: [(segments: [String?], methods: Set<HTTPRequest.Method>)]
    /// The limits each operation's JSON request body declares, for the operations whose body has any.
    let bodyShapes: [(segments: [String?], method: HTTPRequest.Method, shape: DeclaredShape)]

    /// The keys of a path item that name operations (the others are its summary, parameters, ...).
    static var operationKeys: Set<String> { ["get", "put", "post", "delete", "options", "head", "patch", "trace"] }

    init(document yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any], let paths = root["paths"] as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        routes = paths.compactMap { path, item in
            guard let item = item as? [String: Any] else { return nil }
            let methods = Set(item.keys.filter(Self.operationKeys.contains).compactMap { HTTPRequest.Method($0.uppercased()) })
            return (Self.segments(path), methods)
        }
        let components = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        bodyShapes = paths.flatMap { path, item -> [(segments: [String?], method: HTTPRequest.Method, shape: DeclaredShape)] in
            guard let item = item as? [String: Any] else { return [] }
            return item.compactMap { key, operation in
                guard Self.operationKeys.contains(key), let method = HTTPRequest.Method(key.uppercased()),
                    let body = (operation as? [String: Any])?["requestBody"] as? [String: Any],
                    let json = (body["content"] as? [String: Any])?["application/json"] as? [String: Any]
                else { return nil }
                let shape = DeclaredShape(schema: json["schema"], components: components)
                return shape.hasLimits ? (Self.segments(path), method, shape) : nil
            }
        }
    }

    /// A declared path as segments, nil for a parameter.
    private static func segments(_ path: String) -> [String?] {
        path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
    }

    /// The request path's segments under `/v1` (nil when it is not an API path).
    private static func requestSegments(_ path: String) -> [Substring]? {
        guard path.hasPrefix("/v1/") else { return nil }
        return Array(path.dropFirst("/v1".count).split(separator: "/", omittingEmptySubsequences: false).dropFirst())
    }

    private static func matches(_ declared: [String?], _ segments: [Substring]) -> Bool {
        declared.count == segments.count
            && zip(declared, segments).allSatisfy { literal, segment in literal.map { $0 == segment } ?? !segment.isEmpty }
    }

    /// The limits the body of `method path` must keep: those of the most literal declared path
    /// matching it (`/users/me/...` before `/users/{userId}/...`), as the router chooses.
    func bodyShape(method: HTTPRequest.Method, path: String) -> DeclaredShape? {
        guard let segments = Self.requestSegments(path) else { return nil }
        return bodyShapes
            .filter { $0.method == method && Self.matches($0.segments, segments) }
            .max { $0.segments.compactMap { $0 }.count < $1.segments.compactMap { $0 }.count }?
            .shape
    }

    /// Every method some declared path matching `path` takes (`/users/me` matches both
    /// `/users/me` and `/users/{userId}`).
    func allowedMethods(path: String) -> Set<HTTPRequest.Method> {
        guard let segments = Self.requestSegments(path) else { return [] }
        var allowed: Set<HTTPRequest.Method> = []
        for route in routes where Self.matches(route.segments, segments) {
            allowed.formUnion(route.methods)
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
