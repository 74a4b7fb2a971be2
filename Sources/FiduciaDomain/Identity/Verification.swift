import Foundation

public typealias VerificationID = Identifier<Verification>

/// The ways a person shows who is behind an account (A2). Each is checked on its own and lapses on
/// its own; a profile shows which are verified, never the data behind them.
public enum VerificationLevel: String, Sendable, Codable, CaseIterable, Comparable {
    /// The account's e-mail address answers: a code sent by mail came back.
    case email
    /// A phone number answers: a code sent by SMS came back.
    case phone
    /// A real name, checked by a moderator against an identity document.
    case realName
    /// A registered business: licence number, tax registration and brand authorisation, checked
    /// by a moderator against the documents.
    case business

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Levels proven by a code the person types back; the others need a moderator and a document.
    public var usesCode: Bool { self == .email || self == .phone }

    /// What a profile says.
    public var label: String {
        switch self {
        case .email: "E-mail"
        case .phone: "Phone"
        case .realName: "Real name"
        case .business: "Business"
        }
    }
}

/// One attempt to verify one level for one person, from the start to its decision and expiry.
public struct Verification: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "ver"

    public enum State: String, Sendable, Codable, CaseIterable {
        /// A code was sent; waiting for the person to type it back.
        case awaitingCode
        /// Details given; waiting for the person to upload the document.
        case awaitingDocument
        /// Documents submitted; waiting for a moderator.
        case pending
        case approved
        /// Refused, with a reason (a wrong code five times, an unreadable document...).
        case rejected
        /// Was approved; its validity has run out.
        case expired
    }

    public let id: VerificationID
    public let userID: UserID
    public let level: VerificationLevel
    public var state: State
    /// The private data being verified (phone number, real name, document number, licence...). Sealed
    /// at rest; only the person and the reviewing moderator see it.
    public var details: [String: String]
    /// The identity or business document (an encrypted document's id).
    public var documentID: String?
    public var codeAttempts: Int
    public var codeExpiresAt: Date?
    public var reason: String?
    public var decidedBy: UserID?
    public var decidedAt: Date?
    /// When an approval lapses.
    public var expiresAt: Date?
    public let createdAt: Date
    public var updatedAt: Date

    public init(
        id: VerificationID, userID: UserID, level: VerificationLevel, state: State, details: [String: String] = [:], documentID: String? = nil,
        codeAttempts: Int = 0, codeExpiresAt: Date? = nil, reason: String? = nil, decidedBy: UserID? = nil, decidedAt: Date? = nil,
        expiresAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.userID = userID
        self.level = level
        self.state = state
        self.details = details
        self.documentID = documentID
        self.codeAttempts = codeAttempts
        self.codeExpiresAt = codeExpiresAt
        self.reason = reason
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The state as of `now`: an approval past its expiry counts as expired even before the job
    /// that records it has run.
    public func state(at now: Date) -> State {
        if state == .approved, let expiresAt, now >= expiresAt { return .expired }
        return state
    }

    /// Whether this verification counts at `now`.
    public func isValid(at now: Date) -> Bool { state(at: now) == .approved }

    /// Whether the person should renew it now (inside the renewal window before it lapses).
    public func isDueForRenewal(at now: Date) -> Bool {
        guard isValid(at: now), let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= VerificationRules.renewalWindowSeconds
    }
}

/// The rules of verification: code lifetimes and attempts, validity per level, what a document may
/// be, and which transitions are allowed.
public enum VerificationRules {
    public static let codeDigits = 6
    public static let codeLifetimeSeconds: TimeInterval = 15 * 60
    /// A wrong code this many times rejects the attempt; the person starts again with a new code.
    public static let maximumCodeAttempts = 5
    /// How many verifications one person may start per level per day (mail and SMS cost money and
    /// can be used to harass a third party).
    public static let startsPerDay = 5
    /// Renewal is offered this long before an approval lapses.
    public static let renewalWindowSeconds: TimeInterval = 30 * 86_400
    public static let maximumDocumentBytes = 5 * 1024 * 1024

    /// How long an approval lasts.
    public static func validitySeconds(_ level: VerificationLevel) -> TimeInterval {
        switch level {
        case .email, .phone: 365 * 86_400
        case .realName: 2 * 365 * 86_400
        case .business: 365 * 86_400
        }
    }

    /// The fields a level asks for, and whether it needs a document.
    public static func requiredDetails(_ level: VerificationLevel) -> [String] {
        switch level {
        case .email: []
        case .phone: ["phone"]
        case .realName: ["fullName", "documentNumber"]
        case .business: ["companyName", "licenceNumber", "taxRegistration"]
        }
    }

    public static let optionalDetails: Set<String> = ["brandAuthorisation"]

    /// Checks and normalises what a person submits for `level`.
    public static func validateDetails(_ details: [String: String], for level: VerificationLevel) throws(ValidationError) -> [String: String] {
        var validator = Validator()
        var clean: [String: String] = [:]
        let allowed = Set(requiredDetails(level)).union(level == .business ? optionalDetails : [])
        for key in details.keys where !allowed.contains(key) {
            validator.check(false, field: key, "This field does not belong to a \(level.label.lowercased()) verification.")
        }
        // Measured as sent, in code points as the API document counts, so padding cannot carry
        // an over-long value past the limit.
        for (key, value) in details where allowed.contains(key) {
            validator.check(value.unicodeScalars.count <= 200, field: key, "At most 200 characters, spaces included.")
        }
        for key in requiredDetails(level) {
            let value = (details[key] ?? "").trimmingWhitespace()
            validator.check(!value.isEmpty, field: key, "Required.")
            clean[key] = value
        }
        if let brand = details["brandAuthorisation"]?.trimmingWhitespace(), !brand.isEmpty, level == .business { clean["brandAuthorisation"] = brand }
        for (key, value) in clean {
            validator.check(!TextRules.containsInvisibleControls(value), field: key, "Contains invisible or control characters.")
        }
        if level == .phone, let phone = clean["phone"] {
            let normalised = normalisePhone(phone)
            validator.check(normalised != nil, field: "phone", "Give the number in international form, e.g. +49 151 2345 6789.")
            clean["phone"] = normalised ?? phone
        }
        try validator.throwIfInvalid()
        return clean
    }

    /// E.164: a plus and 8 to 15 digits; spaces, dots, dashes and brackets are dropped.
    public static func normalisePhone(_ text: String) -> String? {
        var digits = ""
        var sawPlus = false
        for character in text {
            if character == "+" && digits.isEmpty && !sawPlus { sawPlus = true; continue }
            if character.isASCII, character.isNumber { digits.append(character); continue }
            if " .-()/".contains(character) { continue }
            return nil
        }
        guard sawPlus, (8...15).contains(digits.count), digits.first != "0" else { return nil }
        return "+" + digits
    }

    /// What may be done next: start (or restart) a level.
    public static func mayStart(_ level: VerificationLevel, existing: [Verification], startsToday: Int, now: Date) throws(VerificationError) {
        guard startsToday < startsPerDay else { throw .tooManyAttempts(limit: startsPerDay) }
        let current = existing.filter { $0.level == level }
        if current.contains(where: { $0.state(at: now) == .pending || $0.state == .awaitingDocument }) { throw .alreadyPending }
        if let valid = current.first(where: { $0.isValid(at: now) }), !valid.isDueForRenewal(at: now) { throw .alreadyVerified }
    }

    /// Types a code back. Returns the verification as it is afterwards; a wrong code counts, and
    /// the fifth wrong one rejects the attempt.
    public static func submitCode(_ verification: Verification, matches: Bool, now: Date) throws(VerificationError) -> Verification {
        var next = verification
        guard verification.state == .awaitingCode else { throw .notAwaitingCode }
        guard let expires = verification.codeExpiresAt, now < expires else { throw .codeExpired }
        next.updatedAt = now
        if matches {
            next.state = .approved
            next.decidedAt = now
            next.expiresAt = now.addingTimeInterval(validitySeconds(verification.level))
            next.codeExpiresAt = nil
            return next
        }
        next.codeAttempts += 1
        if next.codeAttempts >= maximumCodeAttempts {
            next.state = .rejected
            next.reason = "The code was typed wrong \(maximumCodeAttempts) times. Start again for a new code."
            next.decidedAt = now
        }
        return next
    }

    /// A document arrives for a verification that asked for one: it goes to the moderators.
    public static func attachDocument(_ verification: Verification, documentID: String, now: Date) throws(VerificationError) -> Verification {
        guard !verification.level.usesCode else { throw .levelUsesCode }
        guard verification.state == .awaitingDocument else { throw .notAwaitingDocument }
        var next = verification
        next.documentID = documentID
        next.state = .pending
        next.updatedAt = now
        return next
    }

    /// The longest reason a moderator may give, in code points.
    public static let reasonLimit = 2_000

    /// A moderator's decision on a pending verification.
    public static func decide(_ verification: Verification, approve: Bool, reason: String?, by moderator: UserID, now: Date) throws(VerificationError) -> Verification {
        guard verification.state == .pending else { throw .notPending }
        guard verification.userID != moderator else { throw .ownVerification }
        guard (reason?.codePointCount ?? 0) <= reasonLimit else { throw .reasonTooLong(limit: reasonLimit) }
        let reason = reason?.trimmingWhitespace() ?? ""
        guard approve || !reason.isEmpty else { throw .reasonRequired }
        var next = verification
        next.state = approve ? .approved : .rejected
        next.reason = reason.isEmpty ? nil : reason
        next.decidedBy = moderator
        next.decidedAt = now
        next.updatedAt = now
        next.expiresAt = approve ? now.addingTimeInterval(validitySeconds(verification.level)) : nil
        return next
    }

    /// The levels verified at `now`, from a person's verifications.
    public static func verifiedLevels(_ verifications: [Verification], at now: Date) -> Set<VerificationLevel> {
        Set(verifications.filter { $0.isValid(at: now) }.map(\.level))
    }
}

/// What a document is, judged by its first bytes (never by the name or the declared type).
public enum DocumentKind: String, Sendable, CaseIterable {
    case jpeg = "image/jpeg"
    case png = "image/png"
    case pdf = "application/pdf"

    public init?(sniffing bytes: some Collection<UInt8>) {
        let head = Array(bytes.prefix(8))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if head.starts(with: Array("%PDF-".utf8)) {
            self = .pdf
        } else {
            return nil
        }
    }
}

/// Named failures of verification.
public enum VerificationError: DomainError, Equatable {
    case alreadyPending
    case alreadyVerified
    case notAwaitingCode
    case codeExpired
    case wrongCode(attemptsLeft: Int)
    case tooManyAttempts(limit: Int)
    case notPending
    case ownVerification
    case reasonRequired
    case reasonTooLong(limit: Int)
    case documentRequired
    case documentNotAccepted
    case levelUsesCode
    case phoneAlreadyVerified
    case notAwaitingDocument

    public var kind: FailureKind {
        switch self {
        case .alreadyPending, .alreadyVerified, .notAwaitingCode, .notPending, .phoneAlreadyVerified, .notAwaitingDocument: .conflict
        case .codeExpired, .wrongCode: .unprocessable
        case .tooManyAttempts: .rateLimited
        case .ownVerification: .forbidden
        case .reasonRequired, .reasonTooLong, .documentRequired, .documentNotAccepted: .invalidInput
        case .levelUsesCode: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .alreadyPending: "verification-pending"
        case .alreadyVerified: "already-verified"
        case .notAwaitingCode: "verification-not-awaiting-code"
        case .codeExpired: "verification-code-expired"
        case .wrongCode: "verification-code-wrong"
        case .tooManyAttempts: "too-many-verifications"
        case .notPending: "verification-not-pending"
        case .ownVerification: "own-verification"
        case .reasonRequired: "reason-required"
        case .reasonTooLong: "reason-too-long"
        case .documentRequired: "document-required"
        case .documentNotAccepted: "document-not-accepted"
        case .levelUsesCode: "verification-uses-code"
        case .phoneAlreadyVerified: "phone-already-verified"
        case .notAwaitingDocument: "verification-not-awaiting-document"
        }
    }

    public var title: String {
        switch self {
        case .alreadyPending: "Verification already waiting for review"
        case .alreadyVerified: "Already verified"
        case .notAwaitingCode: "No code is expected"
        case .codeExpired: "The code has expired"
        case .wrongCode: "Wrong code"
        case .tooManyAttempts: "Too many verification attempts"
        case .notPending: "Verification not pending"
        case .ownVerification: "Own verification"
        case .reasonRequired: "A reason is required"
        case .reasonTooLong: "The reason is too long"
        case .documentRequired: "A document is required"
        case .documentNotAccepted: "Document not accepted"
        case .levelUsesCode: "This level is verified with a code"
        case .phoneAlreadyVerified: "Phone number in use"
        case .notAwaitingDocument: "No document is expected"
        }
    }

    public var detail: String {
        switch self {
        case .alreadyPending: "A verification of this level is already waiting for a moderator."
        case .alreadyVerified: "This level is verified and not yet due for renewal."
        case .notAwaitingCode: "This verification does not wait for a code (it was decided, or needs documents)."
        case .codeExpired: "The code has expired. Start the verification again for a new one."
        case .wrongCode(let left): left > 0 ? "That code is not right; \(left) attempt\(left == 1 ? "" : "s") left." : "That code is not right; this attempt is now rejected."
        case .tooManyAttempts(let limit): "At most \(limit) verifications of one level a day; try again tomorrow."
        case .notPending: "Only a verification waiting for review can be decided."
        case .ownVerification: "A moderator cannot decide their own verification."
        case .reasonRequired: "Say why the verification is refused; the person sees the reason."
        case .reasonTooLong(let limit): "A reason has at most \(limit) characters."
        case .documentRequired: "This level needs a document (a photo or a PDF)."
        case .documentNotAccepted: "A document must be a JPEG or PNG photo or a PDF, at most 5 MiB."
        case .levelUsesCode: "E-mail and phone are verified with a code, not with documents."
        case .phoneAlreadyVerified: "This phone number is verified on another account."
        case .notAwaitingDocument: "This verification already has its document, or was decided."
        }
    }
}

/// One look at a verification's document by a moderator (the audit log of document views).
public struct DocumentView: Sendable, Equatable {
    public let viewerID: UserID
    public let verificationID: VerificationID
    public let viewedAt: Date

    public init(viewerID: UserID, verificationID: VerificationID, viewedAt: Date) {
        self.viewerID = viewerID
        self.verificationID = verificationID
        self.viewedAt = viewedAt
    }
}
