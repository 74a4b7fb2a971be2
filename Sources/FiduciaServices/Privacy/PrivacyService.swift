import FiduciaDomain
import FiduciaPersistence
import Foundation

/// A person's data (G2): the privacy notice they accepted, what Fiducia holds about them, a
/// download of all of it, and the deletion of their account.
public struct PrivacyService: Sendable {
    let store: Store
    let clock: any WallClock
    let blobs: any BlobStore

    /// Where a person stands with the privacy notice.
    public struct NoticeStatus: Sendable {
        public let current: PrivacyNotice
        /// Versions accepted, oldest first, with when.
        public let accepted: [(version: Int, at: Date)]
        public var mustAccept: Bool { accepted.last?.version != current.version }
    }

    public func notice(by principal: Principal) async throws -> NoticeStatus {
        let user = try principal.requireUser()
        let accepted = try await store.read { try await $0.privacy.acceptances(user.id) }
        return NoticeStatus(current: PrivacyNotice.current, accepted: accepted)
    }

    /// Records that the person accepted `version`, which must be the one in force.
    public func accept(version: Int, by principal: Principal) async throws -> NoticeStatus {
        let user = try principal.requireUser()
        guard version == PrivacyNotice.current.version else { throw DataRightsError.noticeNotCurrent(current: PrivacyNotice.current.version) }
        let now = clock.now()
        let accepted = try await store.write { repositories in
            try await repositories.privacy.accept(user.id, version: version, at: now)
            return try await repositories.privacy.acceptances(user.id)
        }
        return NoticeStatus(current: PrivacyNotice.current, accepted: accepted)
    }

    /// What is held about the person: rows per kind of record, their files, and what stands in the
    /// way of deleting the account.
    public struct Holdings: Sendable {
        public let user: User
        public let records: [(name: String, count: Int)]
        public let files: Int
        public let obstacles: DeletionObstacles
        public var mayDelete: Bool { blockers.isEmpty }
        /// What must be finished before the account can be deleted, in words.
        public var blockers: [String] {
            user.isStaff ? [DataRightsError.staffAccount.detail] : obstacles.unfinished
        }
    }

    public func holdings(by principal: Principal) async throws -> Holdings {
        let user = try principal.requireUser()
        return try await store.read { repositories in
            Holdings(
                user: user, records: try await repositories.privacy.counts(of: user.id), files: try await repositories.privacy.files(of: user.id).count,
                obstacles: try await Self.obstacles(to: user.id, in: repositories)
            )
        }
    }

    static func obstacles(to user: UserID, in repositories: Repositories) async throws -> DeletionObstacles {
        var obstacles = try await repositories.privacy.obstacles(to: user)
        for account in try await repositories.ledger.accounts(owner: .user(user)) {
            let balances = account.balances
            guard balances.creditsPosted != balances.debitsPosted || balances.debitsPending != 0 || balances.creditsPending != 0 else { continue }
            // Posted money, or what is on its way when only a hold is left.
            let posted = account.kind.normalSide == .debit ? balances.postedDebitBalance : balances.postedCreditBalance
            let amount = posted != 0 ? posted : max(balances.debitsPending, balances.creditsPending)
            obstacles.money.append((account.kind, Money(amountMinor: amount, currency: account.currency)))
        }
        return obstacles
    }

    /// Everything about the person as a ZIP: a JSON file per kind of record, their account with
    /// its e-mail opened, their verifications with their details, their identity documents and
    /// uploaded files, and a README saying what each is. Recorded in the audit log.
    public func export(by principal: Principal) async throws -> (fileName: String, bytes: [UInt8]) {
        let user = try principal.requireUser()
        let now = clock.now()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let blobs = blobs
        // One snapshot: the files agree with each other.
        var archive = try await store.snapshot { repositories in
            var archive = ZipArchive(modified: now)
            let acceptances = try await repositories.privacy.acceptances(user.id)
            try archive.add("account.json", Array(try encoder.encode(AccountFile(
                id: user.id.rawValue, email: user.email, displayName: user.displayName, roles: user.sortedRoles.map(\.rawValue), createdAt: user.createdAt,
                externalID: user.externalID, privacyNotices: acceptances.map { .init(version: $0.version, acceptedAt: $0.at) }
            ))))
            let verifications = try await repositories.verifications.list(user: user.id)
            try archive.add("verification-details.json", Array(try encoder.encode(verifications.map {
                VerificationFile(id: $0.id.rawValue, level: $0.level.rawValue, state: $0.state.rawValue, details: $0.details)
            })))
            for (name, rows) in try await repositories.privacy.rows(of: user.id) {
                try archive.add("records/\(name).json", Array(try encoder.encode(rows)))
            }
            for file in try await repositories.privacy.files(of: user.id) {
                let bytes = file.sealed
                    ? try await repositories.verifications.document(file.reference)?.bytes
                    : try await blobs.load(sha256: file.reference, in: repositories)
                if let bytes { try archive.add(file.name, bytes) }
            }
            return archive
        }
        try archive.add("README.txt", Array(Self.readme(user: user, at: now).utf8))
        try await store.write { repositories in
            try await AuditService.record("data.export", subject: user.id.rawValue, detail: "the person downloaded their data", by: principal, in: repositories, now: now)
        }
        let day = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        return ("fiducia-data-\(user.id.rawValue)-\(day).zip", archive.finished())
    }

    struct AccountFile: Encodable {
        struct Acceptance: Encodable { let version: Int; let acceptedAt: Date }
        let id, email, displayName: String
        let roles: [String]
        let createdAt: Date
        let externalID: String?
        let privacyNotices: [Acceptance]
    }

    struct VerificationFile: Encodable {
        let id, level, state: String
        let details: [String: String]
    }

    static func readme(user: User, at now: Date) -> String {
        """
        Everything Fiducia holds about account \(user.id.rawValue), as of \(ISO8601DateFormatter().string(from: now)).

        account.json                 your account: e-mail, display name, roles, the privacy notices you accepted
        verification-details.json    what you gave for each verification (opened with your own key)
        records/*.json               one file per kind of record, each row as stored; times are
                                     milliseconds since 1970 (UTC), money is in minor units (cents)
        identity-documents/          the documents you uploaded for verification
        attachments/                 files you attached to messages, disputes, reports and posts

        Left out on purpose: secrets (session token hashes, verification code hashes, the card token),
        reports other people made about you (to protect who reported), who blocked you, ratings
        about you that are not published yet (ratings are double-blind until both sides rated or the
        window closed), and matches against partner platforms' fraud feeds.
        The privacy notice in force is version \(PrivacyNotice.current.version); the privacy page lists
        what is collected and why.
        """
    }

    /// Deletes the person's account: personal data erased (their data key destroyed, so anything
    /// sealed with it is unreadable), ratings and posts kept under the pseudonym "Deleted account",
    /// ledger records kept as bookkeeping law requires, every session ended. Refused while an
    /// order, dispute, appeal, statement, payout or balance is still open, and for staff.
    public func deleteAccount(by principal: Principal) async throws {
        let user = try principal.requireUser()
        guard !user.isStaff else { throw DataRightsError.staffAccount }
        let now = clock.now()
        try await store.write { repositories in
            // The account's row is locked first (PostgreSQL), so two deletions cannot interleave.
            try await repositories.privacy.lockAccount(user.id)
            try await Self.obstacles(to: user.id, in: repositories).check()
            try await repositories.privacy.erase(user.id, at: now)
            _ = try await repositories.sessions.revokeAll(of: user.id, at: now)
            try await repositories.fraudFeed.forgetHashes(of: user.id)
            try await AuditService.record(
                "account.delete", subject: user.id.rawValue, detail: "deleted by its owner; orders, ratings and ledger records kept under the account id",
                by: principal, in: repositories, now: now
            )
        }
    }
}
