import Foundation

/// A response kept so that a retried request with the same idempotency key gets it again.
public struct StoredResponse: Sendable, Equatable, Codable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// What claiming an idempotency key found.
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is new (or its earlier attempt died): the caller runs the request and completes the key.
    case claimed
    /// The same request already finished; send this response again.
    case replay(StoredResponse)
    /// The key was used with a different request.
    case requestMismatch
    /// The same request is running right now.
    case inProgress
}
