import Foundation

/// Settings of the HTTP server itself (one process); the business settings are `ServiceSettings`.
public struct WebConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The largest request body accepted, in bytes. Larger bodies get 413.
    public var maximumBodyBytes = 64 * 1024
    /// Send cookies with `Secure` (set when Fiducia is served over HTTPS, as it must be in production).
    public var secureCookies = false
    /// Run the background job runner in this process.
    public var runsJobs = true
    /// Addresses of the reverse proxies in front of Fiducia, whose `X-Forwarded-For` names the
    /// client; from anyone else the header is ignored.
    public var trustedProxies: Set<String> = []

    /// The body limit of a file upload to the API (`POST /v1/attachments`): one file of at most
    /// 5 MiB (`AttachmentRules`), with room to spare.
    public static let uploadBodyBytes = 6 * 1024 * 1024
    /// The body limit of a page form that carries files (`multipart/form-data`): five files and
    /// the text around them.
    public static let formUploadBodyBytes = 27 * 1024 * 1024

    public init() {}

    /// The largest body `path` accepts with `contentType`: file uploads may be larger than the
    /// rest, which stay at `maximumBodyBytes`.
    func bodyLimit(path: String, contentType: String?) -> Int {
        if path == "/v1/attachments" || (path.hasPrefix("/v1/verifications/") && path.hasSuffix("/document")) {
            return max(maximumBodyBytes, Self.uploadBodyBytes)
        }
        if !path.hasPrefix("/v1/"), contentType?.lowercased().hasPrefix("multipart/form-data") == true {
            return max(maximumBodyBytes, Self.formUploadBodyBytes)
        }
        return maximumBodyBytes
    }
}
