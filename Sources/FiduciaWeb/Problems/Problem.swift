import FiduciaDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// An RFC 9457 problem document: the one shape every API error takes.
public struct Problem: Sendable, Equatable, Codable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var instance: String?
    public var requestId: String?
    public var errors: [FieldError]?

    public init(code: String, title: String, status: Int, detail: String, errors: [FieldError]? = nil) {
        self.type = "/problems/" + code
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors?.isEmpty == true ? nil : errors
    }

    /// The problem's code: the last part of `type`.
    public var code: String { String(type.dropFirst("/problems/".count)) }
}

extension Problem {
    /// Maps any error to a problem, once, at the edge. Named domain errors keep their code and
    /// sentence; framework errors about the request become 4xx problems; anything else becomes a
    /// 500 whose details are logged, never sent.
    static func from(_ error: any Error, logger: Logger) -> Problem {
        switch error {
        case let error as WebError:
            // HTTP-level failures carry statuses that have no domain kind (405, 415, 500).
            return error.problem
        case let error as any DomainError:
            return Problem(code: error.code, title: error.title, status: error.kind.httpStatus.code, detail: error.detail, errors: error.fieldErrors)
        case let error as ServerError:
            // The OpenAPI layer wraps what handlers throw; look inside.
            if error.underlyingError is any DomainError {
                return from(error.underlyingError, logger: logger)
            }
            if let decoding = error.underlyingError as? DecodingError {
                return RequestDecoding.problem(for: decoding)
            }
            if (400..<500).contains(error.httpStatus.code) {
                return RequestDecoding.problem(status: error.httpStatus, cause: error.causeDescription)
            }
            return internalError(error, logger: logger)
        case let error as DecodingError:
            return RequestDecoding.problem(for: error)
        case let error as HTTPError:
            switch error.status.code {
            case 404: return WebError.routeNotFound.problem
            case 405: return WebError.methodNotAllowed.problem
            case 413: return WebError.bodyTooLarge(limitBytes: 0).problem
            default: return WebError.http(error.status, error.body).problem
            }
        default:
            return internalError(error, logger: logger)
        }
    }

    private static func internalError(_ error: any Error, logger: Logger) -> Problem {
        logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
        return WebError.internalError.problem
    }

    /// The problem as an `application/problem+json` response.
    func response(requestID: String) -> Response {
        var problem = self
        problem.requestId = requestID
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(problem)) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension FailureKind {
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .invalidInput: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        case .tooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        }
    }
}
