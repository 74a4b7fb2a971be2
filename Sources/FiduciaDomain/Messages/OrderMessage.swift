import Foundation

public typealias OrderMessageID = Identifier<OrderMessage>
public typealias AttachmentID = Identifier<Attachment>

/// The kinds of file Fiducia accepts as evidence, recognised by their first bytes (a name or a
/// declared type can lie; the bytes decide).
public enum AttachmentType: String, Sendable, Codable, CaseIterable {
    case jpeg = "image/jpeg"
    case png = "image/png"
    case pdf = "application/pdf"

    /// The type the bytes are, or nil when they are none of the accepted ones.
    public static func detect(_ bytes: [UInt8]) -> AttachmentType? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        return nil
    }

    /// The type a file name's extension names, if it names an accepted one.
    public static func forExtension(_ suffix: String) -> AttachmentType? {
        switch suffix.lowercased() {
        case "jpg", "jpeg": .jpeg
        case "png": .png
        case "pdf": .pdf
        default: nil
        }
    }

    public var isImage: Bool { self != .pdf }
}

/// A file as it arrives: a name, the type the sender says it is, and the bytes.
public struct UploadedFile: Sendable, Equatable {
    public let fileName: String
    public let declaredType: String?
    public let bytes: [UInt8]

    public init(fileName: String, declaredType: String?, bytes: [UInt8]) {
        self.fileName = fileName
        self.declaredType = declaredType
        self.bytes = bytes
    }
}

/// A stored file attached to a message, a piece of evidence, a report or an appeal. The bytes live
/// in the blob store under their SHA-256.
public struct Attachment: Sendable, Equatable, Codable, IdentifierPrefixed {
    public static let identifierPrefix = "att"

    public let id: AttachmentID
    public let fileName: String
    public let type: AttachmentType
    public let byteCount: Int
    public let sha256: String

    public init(id: AttachmentID, fileName: String, type: AttachmentType, byteCount: Int, sha256: String) {
        self.id = id
        self.fileName = fileName
        self.type = type
        self.byteCount = byteCount
        self.sha256 = sha256
    }
}

/// The limits on attachments, and their check.
public enum AttachmentRules {
    public static let maximumCount = 5
    public static let maximumBytes = 5 * 1_024 * 1_024
    public static let fileNameLength = 1...200

    /// Checks a set of uploads: their number, their size, and that each is really a JPEG, PNG or
    /// PDF and is what it claims to be. Returns each file with its detected type.
    public static func validate(_ files: [UploadedFile]) throws(AttachmentError) -> [(file: UploadedFile, type: AttachmentType)] {
        guard files.count <= maximumCount else { throw .tooMany(files.count) }
        return try files.map { file throws(AttachmentError) in
            let name = file.fileName.trimmingWhitespace()
            // Counted as sent, in code points, as the API document counts.
            guard fileNameLength.contains(name.count), file.fileName.unicodeScalars.count <= fileNameLength.upperBound else { throw .badFileName }
            guard !file.bytes.isEmpty else { throw .empty(name) }
            guard file.bytes.count <= maximumBytes else { throw .tooLarge(name, bytes: file.bytes.count) }
            guard let detected = AttachmentType.detect(file.bytes) else { throw .typeNotAllowed(name) }
            if let declared = file.declaredType?.lowercased().trimmingWhitespace(), !declared.isEmpty, declared != "application/octet-stream",
                declared != detected.rawValue, !(declared == "image/jpg" && detected == .jpeg) {
                throw .typeMismatch(name, declared: declared, detected: detected)
            }
            // A name ending in another accepted type's extension lies too (a PDF called photo.jpg).
            let parts = name.split(separator: ".")
            if parts.count > 1, let named = AttachmentType.forExtension(String(parts.last!)), named != detected {
                throw .typeMismatch(name, declared: named.rawValue, detected: detected)
            }
            return (UploadedFile(fileName: name, declaredType: file.declaredType, bytes: file.bytes), detected)
        }
    }
}

/// What a message says an order's party wrote, and when. Messages are evidence: never edited, never
/// deleted (the database refuses both).
public struct OrderMessage: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "msg"

    public enum Role: String, Sendable, Codable { case buyer, seller, staff }

    public let id: OrderMessageID
    public let orderID: OrderID
    public let authorID: UserID
    public let role: Role
    public let body: String
    public let attachments: [Attachment]
    public let createdAt: Date

    public init(id: OrderMessageID, orderID: OrderID, authorID: UserID, role: Role, body: String, attachments: [Attachment], createdAt: Date) {
        self.id = id
        self.orderID = orderID
        self.authorID = authorID
        self.role = role
        self.body = body
        self.attachments = attachments
        self.createdAt = createdAt
    }

    public static let bodyLength = 0...4_000

    /// The text trimmed, or the field errors: up to 4,000 characters, and something to say (text
    /// or a file).
    public static func validatedBody(_ text: String, attachmentCount: Int) throws(ValidationError) -> String {
        let body = text.trimmingWhitespace()
        var validator = Validator()
        validator.check(bodyLength.contains(body.codePointCount), field: "text", "A message has at most 4000 characters.")
        validator.check(!body.isEmpty || attachmentCount > 0, field: "text", "Write something or attach a file.")
        try validator.throwIfInvalid()
        return body
    }
}

/// Why an upload was refused.
public enum AttachmentError: DomainError, Equatable {
    case tooMany(Int)
    case tooLarge(String, bytes: Int)
    case empty(String)
    case badFileName
    case typeNotAllowed(String)
    /// The file says it is one type and its bytes are another.
    case typeMismatch(String, declared: String, detected: AttachmentType)

    public var kind: FailureKind {
        switch self {
        case .tooLarge: .tooLarge
        case .tooMany, .empty, .badFileName, .typeNotAllowed, .typeMismatch: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .tooMany: "too-many-attachments"
        case .tooLarge: "attachment-too-large"
        case .empty, .badFileName: "validation-failed"
        case .typeNotAllowed: "attachment-type-not-allowed"
        case .typeMismatch: "attachment-type-mismatch"
        }
    }

    public var title: String {
        switch self {
        case .tooMany: "Too many attachments"
        case .tooLarge: "Attachment too large"
        case .empty, .badFileName: "Some fields are invalid"
        case .typeNotAllowed: "File type not accepted"
        case .typeMismatch: "File is not what it claims"
        }
    }

    public var detail: String {
        switch self {
        case .tooMany(let count): "At most \(AttachmentRules.maximumCount) files can be attached; \(count) were sent."
        case .tooLarge(let name, let bytes): "\(name) has \(bytes) bytes; each file may have at most \(AttachmentRules.maximumBytes) (5 MiB)."
        case .empty(let name): "\(name) is empty."
        case .badFileName: "Each file needs a name of 1 to 200 characters."
        case .typeNotAllowed(let name): "\(name) is not a JPEG, PNG or PDF file (judged by its contents, not its name)."
        case .typeMismatch(let name, let declared, let detected): "\(name) says it is \(declared) but its contents are \(detected.rawValue)."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .empty, .badFileName: [FieldError(field: "attachments", message: detail)]
        default: []
        }
    }
}

/// How fast a seller answers buyers: the median, over the conversations of the last 90 days in
/// which the buyer wrote first, of the time from the buyer's first message to the seller's first
/// answer after it. A conversation the seller has not answered counts as the time it has waited so
/// far, so that silence does not flatter the figure.
public enum ResponseTime {
    public static let windowSeconds: TimeInterval = 90 * 86_400

    /// One conversation: when the buyer first wrote, and when the seller first answered after it.
    public struct Conversation: Sendable, Equatable {
        public let buyerWrote: Date
        public let sellerAnswered: Date?

        public init(buyerWrote: Date, sellerAnswered: Date?) {
            self.buyerWrote = buyerWrote
            self.sellerAnswered = sellerAnswered
        }
    }

    /// The conversations of one order's messages (oldest first): at most one per order.
    public static func conversation(of messages: [OrderMessage]) -> Conversation? {
        guard let first = messages.first(where: { $0.role == .buyer }) else { return nil }
        let answer = messages.first { $0.role == .seller && $0.createdAt >= first.createdAt }
        return Conversation(buyerWrote: first.createdAt, sellerAnswered: answer?.createdAt)
    }

    /// The median answer time in seconds over the conversations begun in the window before `now`,
    /// or nil without any. An unanswered one counts as the time it has waited until `now`.
    public static func medianSeconds(_ conversations: [Conversation], now: Date) -> TimeInterval? {
        let recent = conversations.filter { $0.buyerWrote >= now.addingTimeInterval(-windowSeconds) && $0.buyerWrote <= now }
        guard !recent.isEmpty else { return nil }
        let waits = recent.map { ($0.sellerAnswered ?? now).timeIntervalSince($0.buyerWrote) }.sorted()
        let middle = waits.count / 2
        return waits.count % 2 == 1 ? waits[middle] : (waits[middle - 1] + waits[middle]) / 2
    }

    /// "within 3 hours", for people.
    public static func describe(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<3_600: "within \(max(1, Int((seconds / 60).rounded(.up)))) minutes"
        case ..<(2 * 86_400): "within \(Int((seconds / 3_600).rounded(.up))) hours"
        default: "within \(Int((seconds / 86_400).rounded(.up))) days"
        }
    }
}
