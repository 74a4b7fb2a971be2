import Foundation
import Yams

/// The API reference at `/docs`, rendered on the server from the OpenAPI document itself, so it is
/// always the truth and needs no JavaScript or third-party viewer.
struct APIDocumentation: Sendable {
    struct Field: Sendable {
        let name: String
        let location: String
        let type: String
        let required: Bool
        let description: String
    }

    struct Response: Sendable {
        let status: String
        let description: String
        let schema: String?
    }

    struct Operation: Sendable {
        let operationId: String
        let method: String
        let path: String
        let summary: String
        let description: String?
        let `public`: Bool
        let parameters: [Field]
        let requestSchema: String
        let requestFields: [Field]
        let responses: [Response]
    }

    struct Schema: Sendable {
        let name: String
        let description: String?
        let enumValues: String?
        let fields: [Field]
    }

    let title: String
    let version: String
    let descriptionHTML: String
    let operations: [Operation]
    let schemas: [Schema]

    init(yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
        let info = root["info"] as? [String: Any] ?? [:]
        title = info["title"] as? String ?? "API"
        version = info["version"] as? String ?? ""
        descriptionHTML = Self.markdown(info["description"] as? String ?? "")
        let components = root["components"] as? [String: Any] ?? [:]
        let schemaDefinitions = components["schemas"] as? [String: Any] ?? [:]
        let parameterDefinitions = components["parameters"] as? [String: Any] ?? [:]

        var operations: [Operation] = []
        let paths = root["paths"] as? [String: Any] ?? [:]
        for path in paths.keys.sorted() {
            guard let item = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let parameters = (operation["parameters"] as? [Any] ?? []).compactMap { entry -> Field? in
                    guard var parameter = entry as? [String: Any] else { return nil }
                    if let reference = parameter["$ref"] as? String {
                        parameter = parameterDefinitions[Self.referenceName(reference)] as? [String: Any] ?? [:]
                    }
                    return Field(
                        name: parameter["name"] as? String ?? "",
                        location: parameter["in"] as? String ?? "",
                        type: Self.typeName(parameter["schema"]),
                        required: parameter["required"] as? Bool ?? false,
                        description: parameter["description"] as? String ?? ""
                    )
                }
                var requestSchema = ""
                var requestFields: [Field] = []
                if let body = operation["requestBody"] as? [String: Any],
                    let content = body["content"] as? [String: Any],
                    let json = content["application/json"] as? [String: Any]
                {
                    requestSchema = Self.typeName(json["schema"])
                    if let reference = (json["schema"] as? [String: Any])?["$ref"] as? String {
                        requestFields = Self.fields(of: schemaDefinitions[Self.referenceName(reference)])
                    }
                }
                let responses = (operation["responses"] as? [String: Any] ?? [:]).keys.sorted().map { status -> Response in
                    let response = (operation["responses"] as? [String: Any])?[status] as? [String: Any] ?? [:]
                    if let reference = response["$ref"] as? String {
                        return Response(status: status, description: "An RFC 9457 problem (see /problems).", schema: Self.referenceName(reference))
                    }
                    let content = response["content"] as? [String: Any]
                    let schema = (content?.values.first as? [String: Any])?["schema"]
                    return Response(status: status, description: response["description"] as? String ?? "", schema: schema.map { Self.typeName($0) })
                }
                let security = operation["security"] as? [Any]
                let isPublic = security?.contains { ($0 as? [String: Any])?.isEmpty == true } ?? false
                operations.append(Operation(
                    operationId: operation["operationId"] as? String ?? "",
                    method: method.uppercased(),
                    path: path,
                    summary: operation["summary"] as? String ?? "",
                    description: operation["description"] as? String,
                    public: isPublic,
                    parameters: parameters,
                    requestSchema: requestSchema,
                    requestFields: requestFields,
                    responses: responses
                ))
            }
        }
        self.operations = operations
        self.schemas = schemaDefinitions.keys.sorted().map { name in
            let schema = schemaDefinitions[name] as? [String: Any] ?? [:]
            return Schema(
                name: name,
                description: schema["description"] as? String,
                enumValues: (schema["enum"] as? [Any])?.map { "\($0)" }.joined(separator: " | "),
                fields: Self.fields(of: schema)
            )
        }
    }

    private static func fields(of schema: Any?) -> [Field] {
        guard let schema = schema as? [String: Any], let properties = schema["properties"] as? [String: Any] else { return [] }
        let required = Set(schema["required"] as? [String] ?? [])
        return properties.keys.sorted().map { name in
            let property = properties[name] as? [String: Any] ?? [:]
            return Field(
                name: name,
                location: "body",
                type: typeName(property),
                required: required.contains(name),
                description: property["description"] as? String ?? ""
            )
        }
    }

    private static func referenceName(_ reference: String) -> String {
        String(reference.split(separator: "/").last ?? "")
    }

    static func typeName(_ schema: Any?) -> String {
        guard let schema = schema as? [String: Any] else { return "" }
        if let reference = schema["$ref"] as? String { return referenceName(reference) }
        if let values = schema["enum"] as? [Any] { return values.map { "\($0)" }.joined(separator: " | ") }
        let type = schema["type"] as? String ?? "object"
        if type == "array" { return "array of " + typeName(schema["items"]) }
        if let format = schema["format"] as? String { return "\(type) (\(format))" }
        return type
    }

    /// Just enough Markdown for the API description: paragraphs, bullet lists and `code`.
    static func markdown(_ text: String) -> String {
        var html = ""
        var inList = false
        var paragraph: [String] = []
        func flushParagraph() {
            if !paragraph.isEmpty {
                html += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n"
                paragraph = []
            }
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("* ") {
                flushParagraph()
                if !inList { html += "<ul>\n"; inList = true }
                html += "<li>" + inline(String(line.dropFirst(2))) + "</li>\n"
            } else if line.isEmpty {
                flushParagraph()
                if inList { html += "</ul>\n"; inList = false }
            } else if inList, rawLine.hasPrefix("  ") {
                // A continuation line of the last list item.
                html = String(html.dropLast("</li>\n".count)) + " " + inline(line) + "</li>\n"
            } else {
                if inList { html += "</ul>\n"; inList = false }
                paragraph.append(line)
            }
        }
        flushParagraph()
        if inList { html += "</ul>\n" }
        return html
    }

    private static func inline(_ text: String) -> String {
        let escaped = text
            .replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        var result = ""
        var inCode = false
        for character in escaped {
            if character == "`" {
                result += inCode ? "</code>" : "<code>"
                inCode.toggle()
            } else {
                result.append(character)
            }
        }
        if inCode { result += "</code>" }
        return result
    }
}
