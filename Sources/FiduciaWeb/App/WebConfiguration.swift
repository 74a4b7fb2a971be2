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

    public init() {}
}
