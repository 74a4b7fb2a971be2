import Foundation

public typealias SealID = Identifier<Seal>

/// A certification seal (A4): an independent certifier audited a merchant and says what it checked,
/// when, and until when. The seal is a signed document (`SealDocument`) that anyone can check
/// offline with the certifier's public key.
public struct Seal: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "seal"

    public let id: SealID
    public let certifierID: UserID
    public let merchantID: UserID
    /// What was checked, e.g. "identity of the owner", "returns honoured within 14 days".
    public let checks: [String]
    /// The shop origins the merchant registered when the seal was issued.
    public let origins: [String]
    public let issuedAt: Date
    public let validUntil: Date
    /// The signed document, exactly as issued.
    public let document: String
    public var revokedAt: Date?
    public var revocationReason: String?

    public init(
        id: SealID, certifierID: UserID, merchantID: UserID, checks: [String], origins: [String], issuedAt: Date, validUntil: Date,
        document: String, revokedAt: Date? = nil, revocationReason: String? = nil
    ) {
        self.id = id
        self.certifierID = certifierID
        self.merchantID = merchantID
        self.checks = checks
        self.origins = origins
        self.issuedAt = issuedAt
        self.validUntil = validUntil
        self.document = document
        self.revokedAt = revokedAt
        self.revocationReason = revocationReason
    }

    public enum Status: String, Sendable, Codable {
        case valid, expired, revoked
    }

    public func status(at now: Date) -> Status {
        if revokedAt != nil { return .revoked }
        return now < validUntil ? .valid : .expired
    }
}

/// The rules of seals and of the shop origins a badge may appear on.
public enum SealRules {
    public static let minimumValiditySeconds: TimeInterval = 86_400
    public static let maximumValiditySeconds: TimeInterval = 2 * 365 * 86_400
    public static let checkCount = 1...20
    public static let checkLength = 3...200
    public static let maximumOrigins = 10

    /// Checks what a certifier asks to issue.
    public static func validate(checks: [String], validUntil: Date, now: Date) throws(ValidationError) -> [String] {
        var validator = Validator()
        let clean = checks.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        validator.check(checkCount.contains(clean.count), field: "checks", "Say what was checked (1 to 20 items).")
        validator.check(clean.allSatisfy { checkLength.contains($0.codePointCount) && !TextRules.containsInvisibleControls($0) }, field: "checks",
                        "Each check is 3 to 200 visible characters.")
        let validity = validUntil.timeIntervalSince(now)
        validator.check(validity >= minimumValiditySeconds && validity <= maximumValiditySeconds, field: "validUntil",
                        "A seal is valid for at least a day and at most two years.")
        try validator.throwIfInvalid()
        return clean
    }

    /// The origin a badge is shown on, as browsers send it in `Origin`: scheme, host and a port
    /// only when it is not the scheme's default. Nil for anything else (paths, user names, other schemes).
    public static func normaliseOrigin(_ text: String) -> String? {
        let text = text.trimmingWhitespace()
        guard text.wholeMatch(of: originShape) != nil, let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = components.host?.lowercased(), !host.isEmpty, host.count <= 253,
            components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
            components.path.isEmpty || components.path == "/",
            host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "[" || $0 == "]" }),
            host.allSatisfy(\.isASCII)
        else { return nil }
        var origin = "\(scheme)://\(host)"
        if let port = components.port, !(scheme == "https" && port == 443) && !(scheme == "http" && port == 80) {
            origin += ":\(port)"
        }
        return origin
    }

    /// The shape of an origin, as the API document's pattern gives it: a scheme, a host name of
    /// letters, digits, dots and dashes, and perhaps a port.
    nonisolated(unsafe) static let originShape = #/[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?/?/#

    /// Whether a badge requested with `requestOrigin` (the `Origin` header, or the origin of the
    /// `Referer`) may say "verified".
    public static func badgeApplies(requestOrigin: String?, registered: [String]) -> Bool {
        guard let requestOrigin, let origin = normaliseOrigin(requestOrigin) else { return false }
        return registered.contains(origin)
    }
}

/// The signed form of a seal. Its bytes are RFC 8785 canonical JSON; the signature covers the
/// document without its `proof` member.
public enum SealDocument {
    public static let type = "FiduciaCertificationSeal"

    public static func unsigned(
        _ id: SealID, certifier: (id: UserID, name: String, keyID: String), merchant: (id: UserID, name: String), checks: [String],
        origins: [String], issuedAt: Date, validUntil: Date, issuerURL: String
    ) -> JSONValue {
        .object([
            "type": .string(type),
            "version": .integer(1),
            "id": .string(id.rawValue),
            "issuer": .object(["id": .string(certifier.id.rawValue), "name": .string(certifier.name), "keyId": .string(certifier.keyID)]),
            "subject": .object(["id": .string(merchant.id.rawValue), "name": .string(merchant.name), "origins": .array(origins.map(JSONValue.string))]),
            "checks": .array(checks.map(JSONValue.string)),
            "issuedAt": .string(Timestamp.string(issuedAt)),
            "validUntil": .string(Timestamp.string(validUntil)),
            "statusURL": .string(issuerURL + "/seals/" + id.rawValue),
        ])
    }
}

/// Times in signed documents: RFC 3339 in UTC to the second, e.g. `2026-11-23T09:30:00Z`.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }

    public static func date(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).parse(text)
    }
}

/// Named failures of seals.
public enum SealError: DomainError, Equatable {
    case notACertifier
    case notASeller
    case alreadyRevoked
    case notYourSeal
    case originNotAccepted(String)
    case tooManyOrigins

    public var kind: FailureKind {
        switch self {
        case .notACertifier, .notYourSeal: .forbidden
        case .notASeller: .unprocessable
        case .alreadyRevoked: .conflict
        case .originNotAccepted, .tooManyOrigins: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .notACertifier: "not-a-certifier"
        case .notASeller: "not-a-seller"
        case .alreadyRevoked: "seal-revoked"
        case .notYourSeal: "not-your-seal"
        case .originNotAccepted: "origin-not-accepted"
        case .tooManyOrigins: "too-many-origins"
        }
    }

    public var title: String {
        switch self {
        case .notACertifier: "Not a certifier"
        case .notASeller: "Not a seller"
        case .alreadyRevoked: "Seal already revoked"
        case .notYourSeal: "Not your seal"
        case .originNotAccepted: "Origin not accepted"
        case .tooManyOrigins: "Too many origins"
        }
    }

    public var detail: String {
        switch self {
        case .notACertifier: "Only a certifier (an independent organisation with the certifier role) issues and revokes seals."
        case .notASeller: "Seals are issued to sellers."
        case .alreadyRevoked: "This seal has already been revoked."
        case .notYourSeal: "Only the certifier that issued a seal may revoke it."
        case .originNotAccepted(let text): "'\(text)' is not a shop origin: give https://host or https://host:port, nothing else."
        case .tooManyOrigins: "A merchant registers at most \(SealRules.maximumOrigins) shop origins."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .originNotAccepted, .tooManyOrigins: [FieldError(field: "origins", message: detail)]
        default: []
        }
    }
}
