import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Verification of who is behind an account (A2): e-mail and phone by a code sent there, real name
/// and business by documents a moderator reviews. Everything submitted is sealed at rest; a
/// moderator sees a document only through `document(for:by:)`, which writes the view to the audit log.
public struct IdentityService: Sendable {
    let store: Store
    let clock: any WallClock
    let random: any RandomSource
    let ids: IdentifierGenerator
    let mail: MailService
    let sms: any SMSGateway

    init(store: Store, clock: any WallClock, random: any RandomSource, mail: MailService, sms: any SMSGateway) {
        self.store = store
        self.clock = clock
        self.random = random
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.mail = mail
        self.sms = sms
    }

    /// A verification just started, and where its code went (masked), if it uses one.
    public struct Started: Sendable {
        public let verification: Verification
        public let sentTo: String?
    }

    /// Starts (or renews) the verification of `level`. E-mail and phone get a code; real name and
    /// business wait for their document.
    public func start(_ level: VerificationLevel, details: [String: String], by principal: Principal) async throws -> Started {
        let person = try principal.requireUser()
        let clean = try VerificationRules.validateDetails(details, for: level)
        let now = clock.now()
        let code = level.usesCode ? Self.makeCode(random) : nil
        let id: VerificationID = ids.make()
        let sms = sms
        let mail = mail
        return try await store.write { repositories in
            let existing = try await repositories.verifications.list(user: person.id)
            let startsToday = try await repositories.verifications.starts(user: person.id, level: level, since: now.addingTimeInterval(-86_400))
            try VerificationRules.mayStart(level, existing: existing, startsToday: startsToday, now: now)
            var targetHash: String?
            if let phone = clean["phone"] {
                targetHash = Self.targetHash(level: level, value: phone, sealer: store.sealer)
                if try await repositories.verifications.targetApprovedElsewhere(level: level, targetHash: targetHash!, user: person.id, now: now) {
                    throw VerificationError.phoneAlreadyVerified
                }
            }
            let verification = Verification(
                id: id, userID: person.id, level: level, state: level.usesCode ? .awaitingCode : .awaitingDocument, details: clean,
                codeExpiresAt: code == nil ? nil : now.addingTimeInterval(VerificationRules.codeLifetimeSeconds), createdAt: now, updatedAt: now
            )
            try await repositories.verifications.insert(verification, targetHash: targetHash, codeHash: code.map { Self.codeHash($0, id: id, sealer: store.sealer) })
            var sentTo: String?
            switch level {
            case .email:
                guard let account = try await repositories.users.find(person.id) else { throw NotFoundError(entity: "user", id: person.id.rawValue) }
                try await mail.enqueue(
                    to: account.email, subject: "Your Fiducia verification code",
                    body: """
                        Your code to verify this e-mail address on Fiducia is \(code!).

                        It is valid for 15 minutes. If you did not ask for it, ignore this message: nobody can use it without
                        signing in to your account.
                        """,
                    in: repositories, now: now
                )
                sentTo = Self.maskEmail(account.email)
            case .phone:
                try await sms.send(to: clean["phone"]!, text: "Fiducia code: \(code!) (valid 15 minutes)", in: repositories, now: now)
                sentTo = Self.maskPhone(clean["phone"]!)
            case .realName, .business:
                break
            }
            return Started(verification: verification, sentTo: sentTo)
        }
    }

    /// Types back the code. A wrong code is counted (and answered with how many tries are left)
    /// before the error is raised, so the count survives the failed request.
    public func submitCode(_ id: VerificationID, code: String, by principal: Principal) async throws -> Verification {
        let person = try principal.requireUser()
        let now = clock.now()
        let code = code.filter { !$0.isWhitespace }
        let sealer = store.sealer
        let outcome: Result<Verification, VerificationError> = try await store.write { repositories in
            guard let verification = try await repositories.verifications.find(id, lock: true), verification.userID == person.id else {
                throw NotFoundError(entity: "verification", id: id.rawValue)
            }
            let stored = try await repositories.verifications.codeHash(id) ?? ""
            let matches = SecretToken.constantTimeEquals(stored, Self.codeHash(code, id: id, sealer: sealer))
            let next = try VerificationRules.submitCode(verification, matches: matches, now: now)
            if matches, verification.level == .phone, let phone = verification.details["phone"],
                try await repositories.verifications.targetApprovedElsewhere(
                    level: .phone, targetHash: Self.targetHash(level: .phone, value: phone, sealer: sealer), user: person.id, now: now)
            {
                throw VerificationError.phoneAlreadyVerified
            }
            try await repositories.verifications.update(next)
            if next.state == .approved { try await Self.refreshScores(of: person.id, in: repositories, now: now, ids: ids) }
            return matches ? .success(next) : .failure(.wrongCode(attemptsLeft: max(0, VerificationRules.maximumCodeAttempts - next.codeAttempts)))
        }
        return try outcome.get()
    }

    /// Uploads the identity or business document for a verification waiting for one.
    public func uploadDocument(_ id: VerificationID, bytes: [UInt8], by principal: Principal) async throws -> Verification {
        let person = try principal.requireUser()
        guard bytes.count <= VerificationRules.maximumDocumentBytes, let kind = DocumentKind(sniffing: bytes) else {
            throw VerificationError.documentNotAccepted
        }
        let now = clock.now()
        let documentID = ids.make(prefix: "doc")
        return try await store.write { repositories in
            guard let verification = try await repositories.verifications.find(id, lock: true), verification.userID == person.id else {
                throw NotFoundError(entity: "verification", id: id.rawValue)
            }
            let next = try VerificationRules.attachDocument(verification, documentID: documentID, now: now)
            try await repositories.verifications.insertDocument(id: documentID, owner: person.id, contentType: kind.rawValue, bytes: bytes, at: now)
            try await repositories.verifications.update(next)
            return next
        }
    }

    /// The caller's own verifications, newest first.
    public func mine(by principal: Principal) async throws -> [Verification] {
        let person = try principal.requireUser()
        return try await store.read { try await $0.verifications.list(user: person.id) }
    }

    /// A verification, for its owner and staff.
    public func verification(_ id: VerificationID, by principal: Principal) async throws -> Verification {
        let viewer = try principal.requireUser()
        guard let found = try await store.read({ try await $0.verifications.find(id, lock: false) }), found.userID == viewer.id || viewer.isStaff else {
            throw NotFoundError(entity: "verification", id: id.rawValue)
        }
        return found
    }

    /// Verifications waiting for a moderator, oldest first.
    public func queue(by principal: Principal) async throws -> [Verification] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { try await $0.verifications.pending(limit: 200) }
    }

    /// Approves or rejects (with a reason the person sees) a pending verification.
    public func decide(_ id: VerificationID, approve: Bool, reason: String?, by principal: Principal) async throws -> Verification {
        let moderator = try principal.requireRole(.moderator, .admin)
        let now = clock.now()
        let ids = ids
        return try await store.write { repositories in
            guard let verification = try await repositories.verifications.find(id, lock: true) else { throw NotFoundError(entity: "verification", id: id.rawValue) }
            let next = try VerificationRules.decide(verification, approve: approve, reason: reason, by: moderator.id, now: now)
            try await repositories.verifications.update(next)
            if next.state == .approved { try await Self.refreshScores(of: next.userID, in: repositories, now: now, ids: ids) }
            try await AuditService.record(
                "verification.decide", subject: id.rawValue, detail: approve ? "approved" : "refused: \(reason ?? "")", by: principal, in: repositories, now: now
            )
            return next
        }
    }

    /// The document of a verification, for the reviewing moderator; every view is written to the
    /// audit log in the same transaction as the read.
    public func document(for id: VerificationID, by principal: Principal) async throws -> (kind: DocumentKind, bytes: [UInt8]) {
        let moderator = try principal.requireRole(.moderator, .admin)
        let now = clock.now()
        let viewID = ids.make(prefix: "dvw")
        return try await store.write { repositories in
            guard let verification = try await repositories.verifications.find(id, lock: false), let documentID = verification.documentID,
                let document = try await repositories.verifications.document(documentID)
            else { throw NotFoundError(entity: "document", id: id.rawValue) }
            try await repositories.verifications.recordView(id: viewID, document: documentID, verification: id, viewer: moderator.id, at: now)
            try await AuditService.record("verification.document-view", subject: id.rawValue, detail: "document of \(verification.userID)", by: principal, in: repositories, now: now)
            return (DocumentKind(rawValue: document.contentType) ?? .pdf, document.bytes)
        }
    }

    /// Who looked at a verification's document, and when (staff).
    public func documentViews(_ id: VerificationID, by principal: Principal) async throws -> [DocumentView] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { repositories in
            guard let documentID = try await repositories.verifications.find(id, lock: false)?.documentID else { return [] }
            return try await repositories.verifications.views(document: documentID)
        }
    }

    /// The levels valid now for each user (profiles, trust profiles, friends lists).
    public func verifiedLevels(_ users: [UserID]) async throws -> [UserID: Set<VerificationLevel>] {
        let now = clock.now()
        return try await store.read { try await $0.verifications.verifiedLevels(users: users, now: now) }
    }

    // MARK: Expiry

    static let expiryJobKind = "verification.expire"

    /// Daily: approvals past their validity become `expired`, and the score loses their points.
    static let expiryRecurring = RecurringJob(kind: expiryJobKind) { now in
        let day = Int(now.timeIntervalSince1970 / 86_400)
        return ("\(expiryJobKind):\(day)", Date(timeIntervalSince1970: Double(day) * 86_400), "")
    }

    var expiryJob: JobHandler {
        let ids = ids
        return JobHandler(kind: Self.expiryJobKind) { _, repositories, now in
            for var lapsed in try await repositories.verifications.lapsed(before: now, limit: 1000) {
                lapsed.state = .expired
                lapsed.updatedAt = now
                try await repositories.verifications.update(lapsed)
                try await Self.refreshScores(of: lapsed.userID, in: repositories, now: now, ids: ids)
            }
        }
    }

    // MARK: Helpers

    /// Recomputes a person's scores in every trading role they hold (their head start changed).
    static func refreshScores(of user: UserID, in repositories: Repositories, now: Date, ids: IdentifierGenerator) async throws {
        // A newly verified phone or document joins the person's fraud-feed hashes at the next pull.
        try await repositories.fraudFeed.forgetHashes(of: user)
        guard let account = try await repositories.users.find(user) else { return }
        for role in [Role.buyer, .seller] where account.has(role) {
            try await CreditService.scheduleRefresh(user, role: role, in: repositories, now: now, ids: ids)
        }
    }

    /// The keyed hash of what a verification is about (a phone number), namespaced by level.
    static func targetHash(level: VerificationLevel, value: String, sealer: any PersonalDataSealer) -> String {
        sealer.lookupHash("\(level.rawValue):\(value)")
    }

    static func makeCode(_ random: any RandomSource) -> String {
        let bytes = random.bytes(4)
        let number = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } % 1_000_000
        let digits = String(number)
        return String(repeating: "0", count: VerificationRules.codeDigits - digits.count) + digits
    }

    static func codeHash(_ code: String, id: VerificationID, sealer: any PersonalDataSealer) -> String {
        sealer.lookupHash("verification-code:\(id.rawValue):\(code)")
    }

    /// `a***@example.org`: enough to recognise one's own address, not to learn someone else's.
    static func maskEmail(_ email: String) -> String {
        guard let at = email.firstIndex(of: "@") else { return "***" }
        return String(email.prefix(1)) + "***" + email[at...]
    }

    static func maskPhone(_ phone: String) -> String {
        String(phone.prefix(3)) + " *** " + String(phone.suffix(2))
    }
}
