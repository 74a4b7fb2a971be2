import Foundation

/// A feed of proven fraudsters that trusting platforms exchange (D6). It names nobody: each entry
/// carries keyed hashes (HMAC-SHA256 under a key only the partners share) of the person's e-mail,
/// phone and identity document number, the reason and the day. A partner that knows the same
/// e-mail can recognise it; anyone else learns nothing. The feed is signed with the publishing
/// instance's Ed25519 key, which each partner pins.
public struct FraudFeed: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public let id: String
        public let emailHash: String?
        public let phoneHash: String?
        public let documentHash: String?
        /// The violations that proved it, in words.
        public let reason: String
        /// `YYYY-MM-DD`: when it became final.
        public let date: String

        public init(id: String, emailHash: String?, phoneHash: String?, documentHash: String?, reason: String, date: String) {
            self.id = id
            self.emailHash = emailHash
            self.phoneHash = phoneHash
            self.documentHash = documentHash
            self.reason = reason
            self.date = date
        }

        public func hash(_ kind: Kind) -> String? {
            switch kind {
            case .email: emailHash
            case .phone: phoneHash
            case .document: documentHash
            }
        }
    }

    /// The publishing instance's public URL.
    public let issuer: String
    /// Milliseconds since 1970.
    public let generatedAt: Int64
    public let entries: [Entry]

    public init(issuer: String, generatedAt: Int64, entries: [Entry]) {
        self.issuer = issuer
        self.generatedAt = generatedAt
        self.entries = entries
    }

    /// What is signed: the feed's RFC 8785 canonical JSON (its times are milliseconds, far inside 2^53).
    public var signedBytes: [UInt8] {
        let entries = entries.map { entry -> JSONValue in
            var fields: [String: JSONValue] = ["id": .string(entry.id), "reason": .string(entry.reason), "date": .string(entry.date)]
            if let hash = entry.emailHash { fields["emailHash"] = .string(hash) }
            if let hash = entry.phoneHash { fields["phoneHash"] = .string(hash) }
            if let hash = entry.documentHash { fields["documentHash"] = .string(hash) }
            return .object(fields)
        }
        let feed: JSONValue = .object(["issuer": .string(issuer), "generatedAt": .integer(generatedAt), "entries": .array(entries)])
        return try! CanonicalJSON.bytes(feed)
    }

    /// The identifiers an entry may carry.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case email, phone, document
    }

    /// The bytes that are hashed for an identifier: its kind and its normal form, so that the
    /// same address written differently gives the same hash on every platform.
    public static func hashInput(_ kind: Kind, _ value: String) -> [UInt8]? {
        let normal: String
        switch kind {
        case .email: normal = value.trimmingWhitespace().lowercased()
        case .phone: normal = value.filter { $0.isASCII && ($0.isNumber || $0 == "+") }
        case .document: normal = value.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
        guard !normal.isEmpty else { return nil }
        return Array("\(kind.rawValue):\(normal)".utf8)
    }

    /// Whether a person's penalties prove fraud finally: banned under the rulebook, with no appeal
    /// pending and every penalty past its appeal window or upheld on appeal. Returns the day it
    /// became final and the reason, or nil.
    public static func proven(
        penalties: [Penalty], appeals: [PenaltyID: [Appeal]], rulebook: PenaltyRulebook, at now: Date
    ) -> (since: Date, reason: String)? {
        guard AccountStanding.of(penalties, rulebook: rulebook, at: now).level == .banned else { return nil }
        let active = penalties.filter { $0.activePoints(at: now) > 0 }
        var finalSince = Date.distantPast
        for penalty in active {
            let history = appeals[penalty.id] ?? []
            if history.contains(where: { $0.status == .pending }) { return nil }
            if let upheld = history.filter({ $0.status != .pending }).compactMap(\.decidedAt).max() {
                finalSince = max(finalSince, upheld)
            } else {
                let windowEnds = penalty.appliedAt.addingTimeInterval(Double(rulebook.appealWindowDays) * 86_400)
                guard windowEnds <= now else { return nil }
                finalSince = max(finalSince, windowEnds)
            }
        }
        let reason = Array(Set(active.map(\.violationName))).sorted().joined(separator: ", ")
        return (finalSince, reason)
    }
}

/// A match between a partner's feed entry and one of this instance's users.
public struct FraudFeedMatch: Sendable, Equatable {
    public let partner: String
    public let entryID: String
    public let userID: UserID
    /// What matched: email, phone or document.
    public let kinds: [FraudFeed.Kind]
    public let reason: String
    public let date: String
    public let matchedAt: Date
    /// When the partner took the entry out of its feed (listed in error): the match stands withdrawn.
    public let withdrawnAt: Date?

    public init(
        partner: String, entryID: String, userID: UserID, kinds: [FraudFeed.Kind], reason: String, date: String, matchedAt: Date, withdrawnAt: Date? = nil
    ) {
        self.partner = partner
        self.entryID = entryID
        self.userID = userID
        self.kinds = kinds
        self.reason = reason
        self.date = date
        self.matchedAt = matchedAt
        self.withdrawnAt = withdrawnAt
    }
}
