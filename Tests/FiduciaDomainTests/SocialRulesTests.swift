import FiduciaDomain
import Foundation
import Testing

@Suite("Friends, trust lists, the network's view and risk warnings: rules")
struct SocialRulesTests {
    let ann = UserID("usr_ann"), bob = UserID("usr_bob")

    @Test func friendRequestsAreRefusedForTheRightReason() {
        func check(_ relationship: Relationship, sent: Int = 0, message: String? = nil) -> SocialError? {
            do {
                try FriendRules.checkRequest(from: ann, to: bob, relationship: relationship, message: message, sentLastDay: sent)
                return nil
            } catch { return error }
        }
        #expect(check(Relationship()) == nil)
        #expect(check(Relationship(blockedBy: true)) == .notAccepting)
        #expect(check(Relationship(blocking: true)) == .youBlocked)
        #expect(check(Relationship(friends: true)) == .alreadyFriends)
        #expect(check(Relationship(requestSent: true)) == .requestAlreadySent)
        #expect(check(Relationship(requestReceived: true)) == .requestWaitingForYou)
        #expect(check(Relationship(), sent: FriendRules.requestsPerDay) == .tooManyRequests(perDay: FriendRules.requestsPerDay))
        #expect(check(Relationship(), message: String(repeating: "a", count: 281)) == .messageTooLong(limit: 280))
    }

    @Test func aPrivateListIsTheOwnersAloneAndABlockHidesEverything() {
        for visibility in ListVisibility.allCases {
            #expect(TrustListRules.canView(viewer: ann, owner: ann, visibility: visibility, friends: false, blockedByOwner: false))
            #expect(!TrustListRules.canView(viewer: bob, owner: ann, visibility: visibility, friends: true, blockedByOwner: true))
        }
        #expect(!TrustListRules.canView(viewer: bob, owner: ann, visibility: .private, friends: true, blockedByOwner: false))
        #expect(TrustListRules.canView(viewer: bob, owner: ann, visibility: .friends, friends: true, blockedByOwner: false))
        #expect(!TrustListRules.canView(viewer: bob, owner: ann, visibility: .friends, friends: false, blockedByOwner: false))
        #expect(!TrustListRules.canView(viewer: nil, owner: ann, visibility: .friends, friends: false, blockedByOwner: false))
        #expect(TrustListRules.canView(viewer: nil, owner: ann, visibility: .public, friends: false, blockedByOwner: false))
    }

    @Test func aViewerWithoutANetworkGetsTheGlobalValue() {
        let view = NetworkTrust.view(globalTrust: 0.37, candidates: [])
        #expect(view.personalizedTrust == 0.37)
        #expect(view.summary.isEmpty)
    }

    /// Property: adding a good voice (a friend's good trade or trusted listing, or a friend of a
    /// friend's) never lowers the personalised trust, whatever the network already says.
    @Test(arguments: 1...20)
    func aGoodVoiceNeverLowersPersonalisedTrust(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let global = Double(random.next() % 1_000) / 1_000
        var candidates: [NetworkVoice] = []
        for index in 0..<Int(random.next() % 12) {
            let verdict: NetworkVoice.Verdict = random.next() % 2 == 0 ? .traded(good: random.next() % 3 != 0) : .listed(random.next() % 2 == 0 ? .trusted : .warned, note: nil)
            candidates.append(NetworkVoice(person: UserID("usr_\(index)"), hops: Int(random.next() % 2) + 1, verdict: verdict))
        }
        let before = NetworkTrust.view(globalTrust: global, candidates: candidates).personalizedTrust
        let good: NetworkVoice.Verdict = random.next() % 2 == 0 ? .traded(good: true) : .listed(.trusted, note: nil)
        let after = NetworkTrust.view(globalTrust: global, candidates: candidates + [NetworkVoice(person: UserID("usr_new"), hops: Int(random.next() % 2) + 1, verdict: good)]).personalizedTrust
        #expect(after >= before - 1e-12)
    }

    @Test func aFriendCountsMoreThanAFriendOfAFriendAndAListBeatsARating() {
        let friend = NetworkTrust.view(globalTrust: 0.5, candidates: [NetworkVoice(person: bob, hops: 1, verdict: .traded(good: false))])
        let further = NetworkTrust.view(globalTrust: 0.5, candidates: [NetworkVoice(person: bob, hops: 2, verdict: .traded(good: false))])
        #expect(friend.personalizedTrust < further.personalizedTrust)
        let both = NetworkTrust.voices([
            NetworkVoice(person: bob, hops: 1, verdict: .traded(good: true)), NetworkVoice(person: bob, hops: 1, verdict: .listed(.warned, note: "fake")),
        ])
        #expect(both == [NetworkVoice(person: bob, hops: 1, verdict: .listed(.warned, note: "fake"))])
        let view = NetworkTrust.view(globalTrust: 0.5, candidates: [
            NetworkVoice(person: ann, hops: 1, verdict: .traded(good: true)), NetworkVoice(person: bob, hops: 1, verdict: .traded(good: true)),
        ])
        #expect(view.summary == ["2 of your friends traded with this merchant (both positive)."])
    }

    @Test func checkoutWarningsSayWhatACarefulFriendWould() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let euro = Currency("EUR")!
        var facts = CheckoutWarnings.Facts(completedSales: 40, ratingsReceived: 35, memberSince: now.addingTimeInterval(-400 * 86_400), orderTotal: Money(amountMinor: 9_000, currency: euro))
        #expect(CheckoutWarnings.warnings(facts, now: now).isEmpty)
        facts.medianSale = Money(amountMinor: 30_000, currency: euro)
        facts.salesForMedian = 20
        facts.recentFall = 0.2
        facts.flagged = true
        facts.friendsWarning = ["bob"]
        facts.offPlatformRequest = CheckoutWarnings.offPlatformRequest(in: "Half price if you use a Gift Card")
        #expect(CheckoutWarnings.warnings(facts, now: now).map(\.kind) == [.outsideEscrow, .friendWarned, .flagged, .trustFell, .priceFarBelowUsual])
        #expect(CheckoutWarnings.offPlatformRequest(in: "Thanks, shipping tomorrow") == nil)
        facts = CheckoutWarnings.Facts(completedSales: 1, ratingsReceived: 0, memberSince: now.addingTimeInterval(-86_400), orderTotal: Money(amountMinor: 100, currency: euro))
        #expect(CheckoutWarnings.warnings(facts, now: now).map(\.kind) == [.newSeller, .newAccount])
    }

    @Test func suddenChangesInActivityAreCaught() {
        #expect(ActivityAlerts.volumeJump(thisWeek: 12, previousFourWeeks: 4)?.kind == .orderVolumeJump)
        #expect(ActivityAlerts.volumeJump(thisWeek: 12, previousFourWeeks: 8) == nil)  // 2 a week: not tenfold
        #expect(ActivityAlerts.volumeJump(thisWeek: 9, previousFourWeeks: 0) == nil)  // too few to say
        #expect(ActivityAlerts.negativeRateJump(recentNegative: 4, recentTotal: 10, earlierNegative: 1, earlierTotal: 50)?.kind == .negativeRateJump)
        #expect(ActivityAlerts.negativeRateJump(recentNegative: 4, recentTotal: 10, earlierNegative: 10, earlierTotal: 50) == nil)  // 20 % before
        #expect(ActivityAlerts.negativeRateJump(recentNegative: 2, recentTotal: 2, earlierNegative: 0, earlierTotal: 50) == nil)
        let combined = ActivityAlerts.adding([ActivityAlerts.volumeJump(thisWeek: 20, previousFourWeeks: 0)!], to: .none)
        #expect(abs(combined.risk - 0.5) < 1e-9)
    }
}
