import AsyncHTTPClient
import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The fraud feed shared with partner platforms (D6). Publishing: once an account's fraud is
/// final (banned, appeals over or upheld), an entry with keyed hashes of its e-mail, phone and
/// document number goes into this instance's signed feed. Subscribing: partners' feeds are pulled
/// on a schedule, their signatures checked against the pinned keys, and every entry that matches
/// one of this instance's users becomes an alert for the moderators. No personal data leaves.
public struct FraudFeedService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let settings: FraudFeedSettings
    let issuer: String
    let keySeed: Data
    let logger: Logger
    /// Fetches a URL: (status, body). Replaced in tests; HTTP by default.
    let fetch: @Sendable (String) async throws -> (Int, Data)

    static let publishJobKind = "fraud-feed.publish"
    static let pullJobKind = "fraud-feed.pull"
    static let maximumFeedBytes = 16 << 20
    static let maximumEntries = 100_000

    init(store: Store, clock: any WallClock, random: any RandomSource, settings: FraudFeedSettings, issuer: String, signingKey: Curve25519.Signing.PrivateKey,
         logger: Logger, fetch: (@Sendable (String) async throws -> (Int, Data))? = nil) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.settings = settings
        self.issuer = issuer
        self.keySeed = signingKey.rawRepresentation
        self.logger = logger
        self.fetch = fetch ?? { url in
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: FraudFeedService.maximumFeedBytes)
            return (Int(response.status.code), Data(body.readableBytesView))
        }
    }

    var signingKey: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: keySeed) }

    /// Names the shared key without revealing it, so that hashes made under another key are redone.
    var keyID: String? {
        settings.key.map { Hex.encode(Array(SHA256.hash(data: Array("fiducia fraud feed key:\($0)".utf8))).prefix(8)) }
    }

    func hash(_ kind: FraudFeed.Kind, _ value: String) -> String? {
        guard let key = settings.key, let input = FraudFeed.hashInput(kind, value) else { return nil }
        return Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Array(key.utf8)))))
    }

    /// A user's identifiers, hashed: the e-mail, and the phone and document number they verified.
    func hashes(of user: UserID, in repositories: Repositories) async throws -> [FraudFeed.Kind: String] {
        var hashes: [FraudFeed.Kind: String] = [:]
        if let found = try await repositories.users.find(user), !found.email.isEmpty { hashes[.email] = hash(.email, found.email) }
        for verification in try await repositories.verifications.list(user: user) where verification.state == .approved {
            if let phone = verification.details["phone"] { hashes[.phone] = hash(.phone, phone) }
            if let document = verification.details["documentNumber"] { hashes[.document] = hash(.document, document) }
        }
        return hashes
    }

    // MARK: Publishing

    /// Adds an entry for every account whose fraud became final; returns how many.
    @discardableResult
    public func publishProven() async throws -> Int {
        guard settings.key != nil else { return 0 }
        let now = clock.now()
        let ids = ids
        return try await store.write { repositories in
            let rulebook = try await PenaltyService.rulebookInForce(in: repositories).rulebook
            var published = 0
            for user in try await repositories.fraudFeed.penalisedUsers() where try await !repositories.fraudFeed.isPublished(user) {
                let penalties = try await repositories.penalties.penalties(user: user)
                var appeals: [PenaltyID: [Appeal]] = [:]
                for penalty in penalties { appeals[penalty.id] = try await repositories.penalties.appeals(penalty: penalty.id) }
                guard let proven = FraudFeed.proven(penalties: penalties, appeals: appeals, rulebook: rulebook, at: now) else { continue }
                let hashes = try await hashes(of: user, in: repositories)
                guard !hashes.isEmpty else { continue }
                let day = ISO8601DateFormatter.string(from: proven.since, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
                let entry = FraudFeed.Entry(
                    id: ids.make(prefix: "ffe"), emailHash: hashes[.email], phoneHash: hashes[.phone], documentHash: hashes[.document], reason: proven.reason, date: day
                )
                try await repositories.fraudFeed.publish(entry, user: user, at: now)
                published += 1
            }
            return published
        }
    }

    /// An operator takes a user's entry out of this instance's feed (listed in error, a court's
    /// order...): partners drop it at their next pull and mark their matches on it withdrawn. The
    /// entry is kept, with when and why, so that the hourly job never lists it again; audited.
    @discardableResult
    public func withdraw(user: UserID, reason raw: String) async throws -> String {
        let reason = raw.trimmingWhitespace()
        guard (3...500).contains(reason.codePointCount) else {
            throw ValidationError(field: "reason", "Say why the entry is withdrawn (3 to 500 characters).")
        }
        let now = clock.now()
        return try await store.write { repositories in
            guard let entry = try await repositories.fraudFeed.withdraw(user: user, reason: reason, at: now) else {
                throw NotFoundError(entity: "fraud-feed entry for user", id: user.rawValue)
            }
            try await AuditService.record("fraud-feed.withdraw", subject: user.rawValue, detail: "\(entry): \(reason)", actor: "operator", in: repositories, now: now)
            return entry
        }
    }

    /// The feed as served: the entries, signed.
    public struct SignedFeed: Sendable {
        public let feed: FraudFeed
        /// Base64 of the Ed25519 signature over `feed.signedBytes`.
        public let signature: String
        public let publicKey: String
    }

    public func signedFeed() async throws -> SignedFeed {
        let entries = try await store.read { try await $0.fraudFeed.published() }
        let feed = FraudFeed(issuer: issuer, generatedAt: clock.now().millisecondsSince1970, entries: entries)
        let signature = try signingKey.signature(for: feed.signedBytes)
        return SignedFeed(feed: feed, signature: Data(signature).base64EncodedString(), publicKey: signingKey.publicKey.rawRepresentation.base64EncodedString())
    }

    // MARK: Subscribing

    /// What one partner's feed gave.
    public struct PullReport: Sendable {
        public let partner: String
        public let entries: Int
        /// Why the feed was refused (unreachable, not signed by the pinned key, malformed).
        public let problem: String?
    }

    struct Wire: Decodable {
        let feed: FraudFeed
        let signature: String
        let publicKey: String
    }

    /// Fetches and checks one partner's feed (outside any transaction).
    func fetchFeed(of partner: FraudFeedPartner) async -> Result<FraudFeed, PullFailure> {
        let status: Int, body: Data
        do {
            (status, body) = try await fetch(partner.url + "/v1/fraud-feed")
        } catch {
            return .failure(.init("unreachable: \(error)"))
        }
        guard status == 200 else { return .failure(.init("answered \(status)")) }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: body) else { return .failure(.init("not a fraud feed")) }
        guard wire.publicKey == partner.publicKey, let keyBytes = Data(base64Encoded: partner.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes), let signature = Data(base64Encoded: wire.signature),
            key.isValidSignature(signature, for: wire.feed.signedBytes)
        else { return .failure(.init("the signature does not verify with the partner's pinned key")) }
        guard wire.feed.entries.count <= Self.maximumEntries else { return .failure(.init("more than \(Self.maximumEntries) entries")) }
        return .success(wire.feed)
    }

    struct PullFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Pulls every partner's feed, keeps what verified, hashes users not hashed yet under the
    /// shared key, and records the new matches; each is logged as an alert.
    public func pull() async throws -> (reports: [PullReport], matches: [FraudFeedMatch]) {
        guard let keyID, !settings.partners.isEmpty else { return ([], []) }
        var feeds: [(FraudFeedPartner, FraudFeed)] = []
        var reports: [PullReport] = []
        for partner in settings.partners {
            switch await fetchFeed(of: partner) {
            case .success(let feed):
                feeds.append((partner, feed))
                reports.append(PullReport(partner: partner.name, entries: feed.entries.count, problem: nil))
            case .failure(let failure):
                logger.warning("a partner's fraud feed was refused", metadata: ["partner": "\(partner.name)", "reason": "\(failure.reason)"])
                reports.append(PullReport(partner: partner.name, entries: 0, problem: failure.reason))
            }
        }
        let now = clock.now()
        let verified = feeds
        try await hashUsers(keyID: keyID)
        let (matches, withdrawn) = try await store.write { repositories in
            var withdrawn = 0
            for (partner, feed) in verified {
                // Only a feed that verified can withdraw anything: an unreachable partner withdraws nothing.
                withdrawn += try await repositories.fraudFeed.withdrawMatches(partner: partner.name, keeping: feed.entries.map(\.id), at: now)
                try await repositories.fraudFeed.receive(feed.entries, from: partner.name, at: now)
            }
            return (try await repositories.fraudFeed.recordMatches(keyID: keyID, at: now), withdrawn)
        }
        if withdrawn > 0 { logger.notice("partners withdrew fraud-feed entries that had matched users here", metadata: ["matches": "\(withdrawn)"]) }
        for match in matches {
            logger.warning("a user matches a partner's fraud feed", metadata: [
                "partner": "\(match.partner)", "user": "\(match.userID)", "matched": "\(match.kinds.map(\.rawValue).joined(separator: ","))",
            ])
        }
        return (reports, matches)
    }

    /// Hashes the identifiers of every user not hashed under `keyID` yet, 500 to a transaction,
    /// so that a first pull over many users never holds the writer for long.
    func hashUsers(keyID: String) async throws {
        while true {
            let finished = try await store.write { repositories in
                let batch = try await repositories.fraudFeed.unhashedUsers(keyID: keyID, limit: 500)
                for user in batch {
                    var hashes = try await hashes(of: user, in: repositories)
                    // A user without an e-mail still gets a row, so that the next batch moves on.
                    if hashes[.email] == nil { hashes[.email] = "none" }
                    try await repositories.fraudFeed.saveHashes(user, hashes, keyID: keyID)
                }
                return batch.count < 500
            }
            if finished { return }
        }
    }

    /// Matches with partners' feeds, newest first (staff).
    public func matches(by principal: Principal) async throws -> [FraudFeedMatch] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { try await $0.fraudFeed.matches(limit: 200) }
    }

    /// Both jobs do their work in transactions of their own (the pull talks to partners first,
    /// outside any), then complete; done twice, they change nothing the second time.
    var jobHandlers: [JobHandler] {
        [
            JobHandler(kind: Self.publishJobKind, outside: { _, _ in try await publishProven() }, then: { _, _, _, _ in }),
            JobHandler(kind: Self.pullJobKind, outside: { _, _ in _ = try await pull() }, then: { _, _, _, _ in }),
        ]
    }

    /// Each hour, entries for newly proven fraud; every `pullMinutes`, the partners' feeds.
    static func recurring(pullMinutes: Int) -> [RecurringJob] {
        let period = Double(max(1, pullMinutes) * 60)
        return [
            RecurringJob(kind: publishJobKind) { now in
                let hour = (now.timeIntervalSince1970 / 3_600).rounded(.down)
                return ("\(publishJobKind):\(Int(hour))", Date(timeIntervalSince1970: hour * 3_600), "")
            },
            RecurringJob(kind: pullJobKind) { now in
                let slot = (now.timeIntervalSince1970 / period).rounded(.down)
                return ("\(pullJobKind):\(Int(slot))", Date(timeIntervalSince1970: slot * period), "")
            },
        ]
    }
}
