import FiduciaDomain
import Foundation

/// A posted `multipart/form-data` body (RFC 7578): the forms that carry files (messages, disputes,
/// evidence, reports, appeals). Text fields by name (the last value wins, as with URL-encoded
/// forms) and the files in the order sent; a file input left empty sends a part with an empty
/// file name, which is skipped.
struct MultipartForm: Sendable {
    private(set) var fields: [String: String] = [:]
    private(set) var files: [UploadedFile] = []

    subscript(name: String) -> String? { fields[name] }

    /// A form of text fields only (a URL-encoded form read the same way).
    init(fields: [String: String]) {
        self.fields = fields
    }

    /// Reads `body` sent with `contentType`; nil when it is not well-formed multipart.
    init?(contentType: String, body: [UInt8]) {
        guard let boundary = Self.parameter("boundary", in: contentType), !boundary.isEmpty, boundary.utf8.count <= 200 else { return nil }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [ArraySlice<UInt8>] = []
        var position = 0
        var partStart: Int?
        // Each delimiter starts a line; what lies between two delimiters is one part.
        while let found = Self.find(delimiter, in: body, from: position) {
            if let start = partStart {
                // The part ends with the CRLF before the delimiter.
                let end = found >= 2 && body[found - 2] == 13 && body[found - 1] == 10 ? found - 2 : found
                guard end >= start else { return nil }
                parts.append(body[start..<end])
            }
            var after = found + delimiter.count
            if body.count >= after + 2, body[after] == 45, body[after + 1] == 45 { partStart = nil; break } // "--": the end
            guard body.count >= after + 2, body[after] == 13, body[after + 1] == 10 else { return nil }
            after += 2
            partStart = after
            position = after
        }
        guard partStart == nil, !parts.isEmpty || body.isEmpty else { return nil }
        for part in parts {
            guard let split = Self.find([13, 10, 13, 10], in: Array(part), from: 0) else { return nil }
            let headerBytes = Array(part.prefix(split))
            let content = Array(part.dropFirst(split + 4))
            guard let headerText = String(bytes: headerBytes, encoding: .utf8) else { return nil }
            var disposition: String?
            var type: String?
            for line in headerText.split(separator: "\r\n") {
                let pieces = line.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                let value = pieces[1].trimmingCharacters(in: .whitespaces)
                switch pieces[0].lowercased() {
                case "content-disposition": disposition = value
                case "content-type": type = value
                default: break
                }
            }
            guard let disposition, let name = Self.parameter("name", in: disposition) else { return nil }
            if let fileName = Self.parameter("filename", in: disposition) {
                if fileName.isEmpty && content.isEmpty { continue }
                files.append(UploadedFile(fileName: fileName, declaredType: type, bytes: content))
            } else {
                fields[name] = String(decoding: content, as: UTF8.self)
            }
        }
    }

    /// A `key=value` or `key="value"` parameter of a header value.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            return value
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
