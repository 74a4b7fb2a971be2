import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Friends, blocks and trust lists (E1, E2), and what a viewer's network knows about a merchant
/// (E3). Every change is one transaction; every read applies the privacy rules of
/// `TrustListRules` and blocking.
public struct SocialService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let trust: TrustService
    /// Recent network views, checked against the database's stamp before each use.
    let networkViews = NetworkViewCache()

    init(store: Store, clock: any WallClock, random: any RandomSource, trust: TrustService) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.trust = trust
    }

    /// How often network views were served from the cache, for tests and metrics.
    public func networkViewCacheStatistics() async -> (hits: Int, misses: Int, entries: Int) {
        (await networkViews.hits, await networkViews.misses, await networkViews.count)
    }

    // MARK: Friends

    public func sendRequest(to recipient: UserID, message: String?, by principal: Principal) async throws -> FriendRequest {
        let sender = try principal.requireUser()
        let now = clock.now()
        let message = message?.trimmedOrNil
        let request = FriendRequest(id: ids.make(), fromID: sender.id, toID: recipient, state: .pending, message: message, createdAt: now)
        return try await store.write { repositories in
            guard try await repositories.users.find(recipient) != nil else { throw NotFoundError(entity: "user", id: recipient.rawValue) }
            try FriendRules.checkRequest(
                from: sender.id, to: recipient, relationship: try await repositories.social.relationship(of: sender.id, with: recipient),
                message: message, sentLastDay: try await repositories.social.requestsSent(by: sender.id, since: now.addingTimeInterval(-86_400))
            )
            do {
                try await repositories.social.insertRequest(request)
            } catch where DatabaseErrors.isUniqueViolation(error) {
                throw SocialError.requestAlreadySent
            }
            return request
        }
    }

    /// Accepts or declines a request sent to the caller; accepting makes the two friends.
    public func answer(_ id: FriendRequestID, accept: Bool, by principal: Principal) async throws -> FriendRequest {
        let person = try principal.requireUser()
        let now = clock.now()
        return try await store.write { repositories in
            guard let request = try await repositories.social.findRequest(id) else { throw SocialError.requestNotFound }
            let answered = try FriendRules.answer(request, by: person.id, accept: accept, at: now)
            try await repositories.social.updateRequest(answered)
            if accept { try await repositories.social.addFriendship(request.fromID, request.toID, at: now) }
            return answered
        }
    }

    /// Withdraws a request the caller sent.
    public func withdraw(_ id: FriendRequestID, by principal: Principal) async throws {
        let person = try principal.requireUser()
        let now = clock.now()
        try await store.write { repositories in
            guard var request = try await repositories.social.findRequest(id), request.fromID == person.id else { throw SocialError.requestNotFound }
            guard request.state == .pending else { throw SocialError.requestAlreadyAnswered }
            request.state = .cancelled
            request.answeredAt = now
            try await repositories.social.updateRequest(request)
        }
    }

    /// A friend as shown to the person: who, since when, and what they verified.
    public struct Friend: Sendable {
        public let user: User
        public let since: Date
        public let verifiedLevels: Set<VerificationLevel>
    }

    /// The caller's friends, their pending requests either way, and whom they blocked.
    public struct Circle: Sendable {
        public let friends: [Friend]
        public let incoming: [FriendRequest]
        public let outgoing: [FriendRequest]
        public let blocked: [UserID]
        public let names: [UserID: String]
    }

    public func circle(by principal: Principal) async throws -> Circle {
        let person = try principal.requireUser()
        let now = clock.now()
        return try await store.read { repositories in
            let links = try await repositories.social.friends(of: person.id, limit: NetworkTrust.friendLimit)
            let incoming = try await repositories.social.pendingRequests(to: person.id, limit: 100)
            let outgoing = try await repositories.social.pendingRequests(from: person.id, limit: 100)
            let blocked = try await repositories.social.blocked(by: person.id, limit: 500)
            var everyone = Set(links.map(\.userID))
            everyone.formUnion(incoming.map(\.fromID))
            everyone.formUnion(outgoing.map(\.toID))
            everyone.formUnion(blocked)
            let users = try await repositories.users.find(Array(everyone))
            let levels = try await repositories.verifications.verifiedLevels(users: links.map(\.userID), now: now)
            return Circle(
                friends: links.compactMap { link in
                    users[link.userID].map { Friend(user: $0, since: link.since, verifiedLevels: levels[link.userID] ?? []) }
                },
                incoming: incoming, outgoing: outgoing, blocked: blocked,
                names: users.mapValues(\.displayName)
            )
        }
    }

    public func removeFriend(_ friend: UserID, by principal: Principal) async throws {
        let person = try principal.requireUser()
        try await store.write { repositories in
            guard try await repositories.social.removeFriendship(person.id, friend) else { throw SocialError.notFriends }
        }
    }

    /// Blocks `other`: any friendship and pending request between the two ends, and `other` can
    /// no longer ask, message or see the caller's lists. Blocking twice is the same as once.
    public func block(_ other: UserID, by principal: Principal) async throws {
        let person = try principal.requireUser()
        guard person.id != other else { throw SocialError.notWithYourself }
        let now = clock.now()
        try await store.write { repositories in
            guard try await repositories.users.find(other) != nil else { throw NotFoundError(entity: "user", id: other.rawValue) }
            _ = try await repositories.social.block(other, by: person.id, at: now)
            _ = try await repositories.social.removeFriendship(person.id, other)
            try await repositories.social.cancelPendingRequests(between: person.id, and: other, at: now)
        }
    }

    public func unblock(_ other: UserID, by principal: Principal) async throws {
        let person = try principal.requireUser()
        try await store.write { repositories in
            guard try await repositories.social.unblock(other, by: person.id) else { throw NotFoundError(entity: "block", id: other.rawValue) }
        }
    }

    /// Where the caller stands with `other`: friendship, requests, blocks, and whether they
    /// traded (may list them) and how they listed them.
    public func relationship(with other: UserID, by principal: Principal) async throws -> (relationship: Relationship, tradedWith: Bool, listedAs: TrustListKind?) {
        let person = try principal.requireUser()
        return try await store.read { repositories in
            (
                try await repositories.social.relationship(of: person.id, with: other),
                try await repositories.social.completedTrades(between: person.id, and: other) > 0,
                try await repositories.social.entry(owner: person.id, merchant: other)?.kind
            )
        }
    }

    // MARK: Trust lists

    /// Puts a merchant the caller completed a trade with on their trusted or warn list (replacing
    /// an earlier entry for the same merchant).
    public func list(_ merchant: UserID, as kind: TrustListKind, note: String?, by principal: Principal) async throws -> TrustListEntry {
        let owner = try principal.requireUser()
        let now = clock.now()
        let note = note?.trimmedOrNil
        return try await store.write { repositories in
            guard try await repositories.users.find(merchant) != nil else { throw NotFoundError(entity: "merchant", id: merchant.rawValue) }
            try TrustListRules.checkEntry(
                owner: owner.id, merchant: merchant, note: note,
                completedTradesWithMerchant: try await repositories.social.completedTrades(between: owner.id, and: merchant)
            )
            let earlier = try await repositories.social.entry(owner: owner.id, merchant: merchant)
            let entry = TrustListEntry(ownerID: owner.id, merchantID: merchant, kind: kind, note: note, createdAt: earlier?.createdAt ?? now, updatedAt: now)
            try await repositories.social.upsertEntry(entry)
            return entry
        }
    }

    public func unlist(_ merchant: UserID, by principal: Principal) async throws {
        let owner = try principal.requireUser()
        try await store.write { repositories in
            guard try await repositories.social.deleteEntry(owner: owner.id, merchant: merchant) else { throw SocialError.notListed }
        }
    }

    public func setVisibility(_ visibility: ListVisibility, of kind: TrustListKind, by principal: Principal) async throws {
        let owner = try principal.requireUser()
        try await store.write { try await $0.social.setVisibility(owner: owner.id, kind: kind, visibility: visibility) }
    }

    /// One of a person's lists as a viewer may see it.
    public struct VisibleList: Sendable {
        public let kind: TrustListKind
        public let visibility: ListVisibility
        public let entries: [TrustListEntry]
    }

    /// The lists of `owner` that `principal` may see (none at all for someone the owner blocked,
    /// and a 404 rather than an empty answer, so that a block or a private list is not revealed
    /// as such), with the merchants' names.
    public func lists(of owner: UserID, by principal: Principal) async throws -> (lists: [VisibleList], names: [UserID: String]) {
        let viewer = principal.actingUser?.id
        return try await store.read { repositories in
            guard try await repositories.users.find(owner) != nil else { throw SocialError.listHidden }
            let visibility = try await repositories.social.visibility(owner: owner)
            let friends = if let viewer { try await repositories.social.areFriends(owner, viewer) } else { false }
            let blocked = if let viewer { try await repositories.social.isBlocked(viewer, by: owner) } else { false }
            let shown = TrustListKind.allCases.filter { kind in
                TrustListRules.canView(viewer: viewer, owner: owner, visibility: visibility[kind] ?? .friends, friends: friends, blockedByOwner: blocked)
            }
            guard !shown.isEmpty else { throw SocialError.listHidden }
            let entries = try await repositories.social.entries(owner: owner, limit: 500)
            let names = try await repositories.users.find(Array(Set(entries.map(\.merchantID)))).mapValues(\.displayName)
            return (shown.map { kind in
                VisibleList(kind: kind, visibility: visibility[kind] ?? .friends, entries: entries.filter { $0.kind == kind })
            }, names)
        }
    }

    // MARK: The network's view (E3)

    /// What the viewer's friends and friends of friends know about `merchant`, and the
    /// personalised trust it gives. Signed-out viewers and viewers with no network get the
    /// global value.
    public func networkView(of merchant: UserID, by principal: Principal) async throws -> NetworkView {
        try await trust.sync()
        let global = await trust.trust(of: merchant).value
        guard let viewer = principal.actingUser?.id, viewer != merchant else { return NetworkTrust.view(globalTrust: global, candidates: []) }
        let key = NetworkViewCache.Key(viewer: viewer, merchant: merchant)
        let cache = networkViews
        let voices = try await store.read { repositories in
            // The stamp is read first: voices read after it are at least as new as it says.
            let stamp = try await repositories.social.networkStamp(merchant: merchant)
            if let cached = await cache.voices(for: key, stamp: stamp) { return cached }
            let voices = try await repositories.social.networkVoices(viewer: viewer, merchant: merchant, limit: NetworkTrust.friendOfFriendLimit)
            await cache.store(voices, for: key, stamp: stamp)
            return voices
        }
        return NetworkTrust.view(globalTrust: global, candidates: voices)
    }

    /// The names of the people behind a view's voices (for pages).
    public func names(of voices: [NetworkVoice]) async throws -> [UserID: String] {
        try await store.read { try await $0.users.find(voices.map(\.person)).mapValues(\.displayName) }
    }

    // MARK: Risk warnings (F4)

    /// What a careful friend would say before the buyer pays for `orderID`: the order's buyer
    /// (or staff) may ask.
    public func riskWarnings(on orderID: OrderID, by principal: Principal) async throws -> [RiskWarning] {
        let viewer = try principal.requireUser()
        try await trust.sync()
        let now = clock.now()
        let order = try await store.read { try await $0.orders.find(orderID, lock: false) }
        guard let order, order.buyerID == viewer.id || viewer.isStaff else { throw NotFoundError(entity: "order", id: orderID.rawValue) }
        let seller = order.sellerID
        let recentFall = await trust.recentFall(of: seller)
        let flagged = await trust.fraudRisk(of: seller).isAlert
        let facts = try await store.read { repositories in
            guard let sellerUser = try await repositories.users.find(seller) else { throw NotFoundError(entity: "seller", id: seller.rawValue) }
            let completed = try await repositories.orders.count(.seller(seller), status: .completed)
            let ratingsReceived = try await repositories.ratings.counts(ratee: seller, side: .buyerRatesSeller, since: nil).total
            let warners = try await repositories.social.friendsWarning(viewer: order.buyerID, about: seller)
            let names = try await repositories.users.find(warners)
            let sales = try await repositories.social.recentSaleTotals(seller: seller, currency: order.currency, limit: 50).sorted()
            let messages = try await repositories.messages.messages(order: order.id, after: nil, limit: 200)
            let offPlatform = messages.lazy.filter { $0.authorID == seller }.compactMap { CheckoutWarnings.offPlatformRequest(in: $0.body) }.first
            return CheckoutWarnings.Facts(
                completedSales: completed, ratingsReceived: ratingsReceived, memberSince: sellerUser.createdAt, recentFall: recentFall,
                friendsWarning: warners.compactMap { names[$0]?.displayName }, flagged: flagged,
                orderTotal: Money(amountMinor: order.totalMinor, currency: order.currency),
                medianSale: sales.isEmpty ? nil : Money(amountMinor: sales[sales.count / 2], currency: order.currency), salesForMedian: sales.count,
                offPlatformRequest: offPlatform
            )
        }
        return CheckoutWarnings.warnings(facts, now: now)
    }
}
