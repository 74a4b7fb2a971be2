import Foundation

/// The OpenAPI 3.1 document the server types are generated from, as shipped in this build.
public enum OpenAPIDocument {
    /// The YAML text of `openapi.yaml`.
    public static func yaml() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}
