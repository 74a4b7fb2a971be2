import FiduciaDomain
import Foundation
import HTTPTypes

/// Turns the decoder's technical errors into sentences a person understands.
enum RequestDecoding {
    static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return validation(field: field, "The field '\(field)' is required.")
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            if field.isEmpty { return malformed("The request body must be a JSON object.") }
            return validation(field: field, "The field '\(field)' must be \(describe(type)).")
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return validation(field: field, "The field '\(field)' must be \(describe(type)), not null.")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return malformed("The request body is not valid JSON.") }
            if context.debugDescription.contains("enum") || context.debugDescription.contains("Cannot initialize") {
                return validation(field: field, "The field '\(field)' has a value that is not allowed.")
            }
            return validation(field: field, "The field '\(field)' is invalid: \(context.debugDescription)")
        @unknown default:
            return malformed("The request body could not be read.")
        }
    }

    /// A problem for a 4xx the OpenAPI layer raised before reaching a handler (a missing body,
    /// a wrong content type, a bad query parameter).
    static func problem(status: HTTPResponse.Status, cause: String) -> Problem {
        switch status.code {
        case 415: return WebError.unsupportedMediaType("Send the request body as application/json.").problem
        case 404: return WebError.routeNotFound.problem
        default:
            if cause.contains("Missing required request body") { return malformed("The request needs a JSON body.") }
            if cause.contains("query") || cause.contains("Failed to decode a value") {
                return malformed("A query or path parameter is missing or has the wrong type.")
            }
            return malformed(cause)
        }
    }

    private static func malformed(_ detail: String) -> Problem {
        WebError.malformedRequest(detail).problem
    }

    private static func validation(field: String, _ message: String) -> Problem {
        let error = ValidationError(field: field, message)
        return Problem(code: error.code, title: error.title, status: 400, detail: message, errors: error.fieldErrors)
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            .joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "a string"
        case "Int", "Int64", "Int32": return "an integer"
        case "Double", "Float": return "a number"
        case "Bool": return "true or false"
        default:
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a valid value"
        }
    }
}
