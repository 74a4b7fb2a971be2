import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Fills the database with a small demo marketplace, so that a newcomer sees real pages at once.
///
/// Every step first checks whether its records exist, so running the seeder again adds nothing.
public struct DemoSeeder: Sendable {
    let services: AppServices

    /// The password of every demo account.
    public static let password = "fiducia-demo"

    public struct Person: Sendable {
        public let key: String
        public let displayName: String
        public let roles: Set<Role>
        public var email: String { "\(key)@demo.fiducia.test" }
    }

    public static let people: [Person] = [
        Person(key: "admin", displayName: "Demo Administrator", roles: [.admin, .moderator]),
        Person(key: "mia", displayName: "Mia (moderator)", roles: [.moderator]),
        Person(key: "audit", displayName: "Audit Guild (certifier)", roles: [.certifier]),
        Person(key: "shady", displayName: "Shady Deals", roles: [.seller]),
        Person(key: "lotus", displayName: "Lotus Tea House", roles: [.seller]),
        Person(key: "northwind", displayName: "Northwind Books", roles: [.seller, .buyer]),
        Person(key: "bright", displayName: "Bright Electronics", roles: [.seller]),
        Person(key: "alice", displayName: "Alice", roles: [.buyer]),
        Person(key: "bob", displayName: "Bob", roles: [.buyer]),
        Person(key: "chen", displayName: "Chen Wei", roles: [.buyer, .seller]),
        Person(key: "dana", displayName: "Dana", roles: [.buyer]),
    ] + (1...10).map { Person(key: "puppet\($0)", displayName: "New buyer \($0)", roles: [.buyer]) }

    public init(services: AppServices) {
        self.services = services
    }

    /// Runs every step; returns a line per thing it created.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> [String] {
        var created: [String] = []
        // The demo marketplace has been running for about seven months: people joined then.
        let joined = services.at(ManualClock(services.clock.now().addingTimeInterval(-200 * 86_400)))
        let users = try await DemoSeeder(services: joined).seedPeople(progress: progress, created: &created)
        if !created.isEmpty {
            // Lotus made its promises and opened its loyalty programme when it joined, so its
            // whole history counts.
            let lotus = Principal.user(users["lotus"]!, session: SessionID("ses_demo_lotus"))
            _ = try await joined.customerCare.setCommitments(answerWithinHours: 24, shipWithinHours: 48, by: lotus)
            _ = try await joined.customerCare.setProgramme(pointsPerUnit: 1, levels: [
                .init(name: "Tea friend", minimumPoints: 0, benefit: "A sample of the season's tea in every parcel"),
                .init(name: "Connoisseur", minimumPoints: 100, benefit: "Free shipping"),
                .init(name: "Patron", minimumPoints: 300, benefit: "10% off and first taste of new harvests"),
            ], by: lotus)
        }
        try await seedTrades(users, progress: progress, created: &created)
        if !created.isEmpty {
            // Lotus answers its newest rating in public; the reply is logged like the ratings.
            let lotus = users["lotus"]!
            if let newest = try await services.store.read({
                try await $0.ratings.list(user: lotus.id, received: true, side: nil, includeUnpublishedBy: nil, before: nil, limit: 1)
            }).first {
                _ = try await services.ratings.reply(to: newest.id, text: "Thank you, we are glad the tea arrived well!", by: .user(lotus, session: SessionID("ses_demo_lotus")))
            }
            let head = try await services.ratingLog.signTreeHead()
            created.append(
                "rating log: \(head.treeSize) entries (every published rating, and Lotus Tea House's reply to its newest) under a signed tree head (/v1/log/tree-head); audit it with `fiducia log verify --server http://127.0.0.1:8080 --user \(lotus.id)`"
            )
            created += try await seedTransparency()
            if let report = try await services.customerCare.commitments(of: users["lotus"]!.id), let shipping = report.shipping?.percent {
                let points = try await services.customerCare.memberships(by: .user(users["alice"]!, session: SessionID("ses_demo_alice")))
                    .first { $0.seller.id == users["lotus"]!.id }
                created.append("customer care: Lotus Tea House promises to ship within 48 hours (kept \(shipping)% in 90 days) and runs a loyalty programme; Alice has \(points?.points ?? 0) points there (\(points?.level.name ?? "none"), see /loyalty as Alice)")
            }
            if let trade = services.rules.inForce(RulesVersions.tradeDocument) {
                created.append("rules: the trade rules (version \(trade.version), in force since \(trade.effective); /rules/trade/diff shows what changed) and the after-sales templates at /rules; every order names the versions it was made under")
            }
            // A drill three weeks ago: incident mode on for two hours, then off (both audited).
            let admin = Principal.user(users["admin"]!, session: SessionID("ses_demo_admin"))
            let drill = services.clock.now().addingTimeInterval(-21 * 86_400)
            _ = try await services.at(ManualClock(drill)).incidents.start(reason: "Drill: practising our response to a leaked staff password.", by: admin)
            _ = try await services.at(ManualClock(drill.addingTimeInterval(7_200))).incidents.end(by: admin)
            created.append("incident mode: a two-hour drill three weeks ago in the history at /admin/incident (as admin); switching it on pauses payouts and new orders, signs everyone out and puts a banner on every page (at the shell: `fiducia incident start --reason … --admin admin@demo.fiducia.test`)")
            let (events, _) = try await services.audit.verify()
            created.append("audit log: \(events) privileged actions (rulings, penalties, staff decisions, verifications, role grants), each chained to the one before (/v1/audit-events as admin; its signed head for anyone at /v1/audit-head; `fiducia audit verify`)")
            created.append(services.settings.fraudFeed.key == nil
                ? "fraud feed: off here; with FIDUCIA_FRAUD_FEED_KEY and FIDUCIA_FRAUD_FEED_PARTNERS set, accounts banned for good are shared as keyed hashes in a signed feed (/v1/fraud-feed) and partners' feeds raise alerts (/moderation/fraud-alerts); `fiducia fraud-feed pull` tries it, `fiducia fraud-feed withdraw` takes back an entry listed in error"
                : "fraud feed: on; /v1/fraud-feed is this instance's signed feed, and matches with partners' feeds appear in /moderation/fraud-alerts")
            created.append("your data: /privacy shows each person the privacy notice they accepted, what Fiducia holds about them, a ZIP of all of it, and account deletion (GET /v1/me/data-export, DELETE /v1/users/me)")
        }
        return created
    }

    /// Anonymous feedback over the last months, and the transparency report of each month the
    /// demo's history covers (the server's monthly job makes the next ones).
    func seedTransparency() async throws -> [String] {
        let now = services.clock.now()
        let notes: [(Double, Feedback.Topic, String)] = [
            (75, .safety, "A seller asked me to pay by bank transfer to save the fees. I refused, but a warning before the chat opens would help."),
            (40, .moderation, "My dispute took four days to be looked at. Please say in the dispute how long the moderators usually take."),
            (12, .accessibility, "The order page is hard to use with a screen reader: the status badge is read before the title."),
            (3, .fraud, "Several new accounts praise the same shop in the same words. Is anyone checking?"),
        ]
        for (daysAgo, topic, text) in notes {
            _ = try await services.at(ManualClock(now.addingTimeInterval(-daysAgo * 86_400))).feedback.submit(topic: topic, text: text)
        }
        var months: [String] = []
        var cursor = MonthName.range(of: MonthName.of(now))!.0
        for _ in 0..<6 {
            cursor = cursor.addingTimeInterval(-86_400)
            months.insert(MonthName.of(cursor), at: 0)
            cursor = MonthName.range(of: MonthName.of(cursor))!.0
        }
        for month in months { _ = try await services.transparencyReports.generate(month: month) }
        return [
            "anonymous feedback: \(notes.count) notes in the moderators' queue (/moderation/feedback); anyone can write one at /feedback, no account, nothing about the sender kept",
            "transparency reports: \(months.first!) to \(months.last!) at /transparency (charts), /v1/transparency-reports (JSON, or CSV with Accept: text/csv); the server makes each next month's on the 1st",
        ]
    }

    /// The demo people by key, created if missing.
    func seedPeople(progress: @Sendable (String) -> Void, created: inout [String]) async throws -> [String: User] {
        var users: [String: User] = [:]
        let administrator = Principal.user(
            User(id: UserID("usr_demo_seeder"), email: "", displayName: "demo seeder", roles: [.admin], createdAt: services.clock.now()),
            session: SessionID("ses_demo_seeder")
        )
        for (index, person) in Self.people.enumerated() {
            progress("[\(index + 1)/\(Self.people.count)] \(person.displayName)")
            if let existing = try await services.store.read({ try await $0.users.findCredentials(email: person.email) }) {
                users[person.key] = existing.user
                continue
            }
            let user = try await services.accounts.signUp(
                .init(email: person.email, password: Self.password, displayName: person.displayName, roles: person.roles),
                privacyNoticeVersion: PrivacyNotice.current.version, by: administrator
            )
            users[person.key] = user
            created.append("user \(person.email) (\(person.roles.sorted().map(\.rawValue).joined(separator: ", ")))")
        }
        return users
    }

    /// A trade in the demo history: who, what, how many days ago it was paid, and how it ended.
    struct DemoTrade {
        enum Ending {
            case completed, refundedInPart(Int64), inEscrow, awaitingPayment
            var isRefund: Bool { if case .refundedInPart = self { return true } else { return false } }
        }
        let buyer: String
        let seller: String
        let title: String
        let priceMinor: Int64
        let daysAgo: Double
        let ending: Ending
    }

    /// Six months of trades ending `now`. Lotus Tea House trades weekly, then eight times in the
    /// last full month (enough for an honest-seller commendation); Northwind Books trades now
    /// and then; Bright Electronics is a newcomer with one order in escrow.
    static func trades(now: Date) -> [DemoTrade] {
        let teas = ["Longjing green tea, 100 g", "Tieguanyin oolong, 150 g", "Pu-erh cake, 357 g", "Jasmine pearls, 50 g", "Gaiwan tea set"]
        let books = ["The Art of Trust (hardcover)", "A History of Markets", "Letters of Credit, 2nd ed.", "Paper Money"]
        let buyers = ["alice", "bob", "chen", "dana"]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let thisMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: now))!
        let lastMonth = calendar.date(byAdding: .month, value: -1, to: thisMonth)!
        let daysToLastMonth = now.timeIntervalSince(lastMonth) / 86_400
        var trades: [DemoTrade] = []
        for index in 0..<22 {
            trades.append(DemoTrade(
                buyer: buyers[index % 4], seller: "lotus", title: teas[index % teas.count],
                priceMinor: Int64(1_800 + (index * 730) % 6_000), daysAgo: 185 - Double(index) * 6.5,
                ending: index == 9 ? .refundedInPart(1_000) : .completed
            ))
        }
        for index in 0..<8 {
            trades.append(DemoTrade(
                buyer: buyers[(index + 2) % 4], seller: "lotus", title: teas[(index + 2) % teas.count],
                priceMinor: Int64(2_400 + index * 310), daysAgo: daysToLastMonth - 1 - Double(index) * 3.2, ending: .completed
            ))
        }
        for index in 0..<8 {
            trades.append(DemoTrade(
                buyer: buyers[(index + 1) % 4], seller: "northwind", title: books[index % books.count],
                priceMinor: Int64(1_200 + index * 350), daysAgo: 90 - Double(index) * 10, ending: .completed
            ))
        }
        trades.append(DemoTrade(buyer: "alice", seller: "bright", title: "USB-C charger 65 W", priceMinor: 3_990, daysAgo: 2, ending: .inEscrow))
        trades.append(DemoTrade(buyer: "dana", seller: "northwind", title: "Paper Money", priceMinor: 1_500, daysAgo: 0, ending: .awaitingPayment))
        return trades.sorted { $0.daysAgo > $1.daysAgo }
    }

    /// A history of trades, made through the real escrow service with a clock set in the past.
    /// Skipped when the demo buyers already have orders.
    func seedTrades(_ users: [String: User], progress: @Sendable (String) -> Void, created: inout [String]) async throws {
        let alice = users["alice"]!
        guard try await services.store.read({ try await $0.orders.count(.buyer(alice.id), status: nil) }) == 0 else { return }
        let now = services.clock.now()
        let clock = ManualClock(now.addingTimeInterval(-181 * 86_400))
        let past = services.at(clock)
        let eur = Currency("EUR")!
        func principal(_ key: String) -> Principal { .user(users[key]!, session: SessionID("ses_demo_\(key)")) }

        try await past.ledger.topUpGuaranteeFund(currency: eur, amountMinor: 100_000, reference: "demo:guarantee-fund")
        _ = try await past.escrow.setPolicy(AfterSalesPolicy(returnWindowDays: 7, genuineGoodsGuarantee: true), by: principal("lotus"))
        _ = try await past.escrow.setPolicy(AfterSalesPolicy(returnWindowDays: 15, genuineGoodsGuarantee: false), by: principal("northwind"))
        _ = try await past.payments.placeDeposit(currency: "EUR", amountMinor: 50_000, from: .card(token: "tok_visa"), by: principal("lotus"))
        // Northwind put down 250.00 and, before its first sale, took 50.00 back (a deposit comes back
        // only while it backs no sale: its wallet now says why the rest stays).
        _ = try await past.payments.placeDeposit(currency: "EUR", amountMinor: 25_000, from: .card(token: "tok_visa"), by: principal("northwind"))
        _ = try await past.payments.withdrawDeposit(currency: "EUR", amountMinor: 5_000, by: principal("northwind"))
        created.append("guarantee fund of 1000.00 EUR; deposits for Lotus Tea House and Northwind Books (Northwind took 50.00 of its deposit back before its first sale; /wallet says what holds the rest)")

        let trades = Self.trades(now: now)
        let comments = ["Exactly as described, fast shipping.", "Lovely tea, well packed.", "Second order, still excellent.", nil, "Friendly and quick.", nil]
        for (index, trade) in trades.enumerated() {
            progress("[\(index + 1)/\(trades.count)] \(trade.title) from \(trade.seller) to \(trade.buyer)")
            clock.set(now.addingTimeInterval(-trade.daysAgo * 86_400 - 3_600))
            let buyer = principal(trade.buyer)
            let seller = principal(trade.seller)
            let order = try await past.escrow.createOrder(
                NewOrder(sellerID: users[trade.seller]!.id, currency: "EUR", items: [LineItem(title: trade.title, quantity: 1, unitPriceMinor: trade.priceMinor)]),
                by: buyer
            )
            if case .awaitingPayment = trade.ending { continue }
            clock.advance(by: 600)
            _ = try await past.escrow.pay(order.id, with: .card(token: "tok_visa"), by: buyer)
            clock.advance(by: 86_400 / 2)
            _ = try await past.escrow.perform(.ship(carrier: trade.seller == "bright" ? "DHL" : "SF Express", trackingNumber: "DEMO\(1000 + index)"), on: order.id, by: seller)
            if case .inEscrow = trade.ending { continue }
            clock.advance(by: 86_400 * 2)
            _ = try await past.escrow.perform(.confirmReceipt, on: order.id, by: buyer)
            if case .refundedInPart(let amount) = trade.ending {
                clock.advance(by: 86_400)
                _ = try await past.escrow.perform(.requestRefund(amountMinor: amount, reason: "One of the tins was dented"), on: order.id, by: buyer)
                _ = try await past.escrow.perform(.refund(amountMinor: amount, reason: "Sorry about the dented tin"), on: order.id, by: seller)
            }
            // Both rate (double-blind: published once both have), and the scores are recomputed then.
            clock.advance(by: 3_600)
            let stars = index % 7 == 3 ? 4 : 5
            _ = try await past.ratings.rate(order.id, RatingSubmission(
                overall: .positive,
                detailed: DetailedRatings(itemAsDescribed: stars, serviceAttitude: 5, shippingSpeed: index % 5 == 0 ? 4 : 5),
                comment: trade.ending.isRefund ? "A tin was dented; refunded at once, no fuss." : comments[index % comments.count]
            ), by: buyer)
            clock.advance(by: 1_800)
            _ = try await past.ratings.rate(order.id, RatingSubmission(overall: .positive, comment: "Paid promptly. Thank you!"), by: seller)
            try await services.store.write { repositories in
                try await past.credit.refresh(users[trade.seller]!.id, role: .seller, in: repositories, now: clock.now())
                try await past.credit.refresh(users[trade.buyer]!.id, role: .buyer, in: repositories, now: clock.now())
            }
        }
        // Last month's honest sellers, as the monthly job would name them.
        clock.set(now)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let lastMonth = MonthName.of(calendar.date(byAdding: .month, value: -1, to: now)!)
        let commended = try await services.store.write { repositories in
            try await past.credit.commend(month: lastMonth, in: repositories, now: now)
        }
        if !commended.isEmpty { created.append("honest-seller commendation for \(lastMonth): \(commended.count) seller(s)") }
        created.append("\(trades.count) orders over the last six months with both sides' ratings (completed, one partly refunded, one in escrow, one awaiting payment)")
        try await seedSafetyScenarios(users, now: now, progress: progress, created: &created)
        try await seedDisputes(users, now: now, progress: progress, created: &created)
        try await seedIdentity(users, now: now, progress: progress, created: &created)
        try await seedSocial(users, progress: progress, created: &created)
        try await seedCommunity(users, progress: progress, created: &created)
    }

    /// Friends and their lists (E1–E3, F4): Alice, Bob, Chen and Dana know each other; Bob and
    /// Alice trust Lotus Tea House; Chen, whose book never came, warns against Northwind Books, so
    /// Dana, his friend, is warned on the order she has not paid yet.
    func seedSocial(_ users: [String: User], progress: @Sendable (String) -> Void, created: inout [String]) async throws {
        progress("friends and trust lists…")
        func principal(_ key: String) -> Principal { .user(users[key]!, session: SessionID("ses_demo_\(key)")) }
        for (from, to) in [("alice", "bob"), ("bob", "chen"), ("chen", "dana"), ("alice", "dana")] {
            let request = try await services.social.sendRequest(to: users[to]!.id, message: nil, by: principal(from))
            _ = try await services.social.answer(request.id, accept: true, by: principal(to))
        }
        _ = try await services.social.sendRequest(to: users["alice"]!.id, message: "Bob says you know good tea", by: principal("chen"))
        _ = try await services.social.list(users["lotus"]!.id, as: .trusted, note: "Fresh tea, well packed, ships the same day", by: principal("bob"))
        try await services.social.setVisibility(.public, of: .trusted, by: principal("bob"))
        _ = try await services.social.list(users["lotus"]!.id, as: .trusted, note: nil, by: principal("alice"))
        _ = try await services.social.list(users["northwind"]!.id, as: .warned, note: "My book never came; they insist it was delivered", by: principal("chen"))
        created.append("friends: Alice–Bob, Bob–Chen, Chen–Dana, Alice–Dana (and Chen's request waiting for Alice, see /friends as Alice); Bob and Alice trust Lotus Tea House (see its profile as Alice); Chen warns against Northwind Books, so Dana sees a friend's warning on her unpaid order")
    }

    /// The community (E4): Bob tells his friends how his Lotus order went, with a photo of the
    /// tin; Dana asks Lotus about its oolong, Bob (who bought there) and Lotus answer, Chen finds
    /// Bob's answer helpful and Dana accepts it; Shady Deals' answer asking for a bank transfer is
    /// reported by Alice and hidden by Mia.
    func seedCommunity(_ users: [String: User], progress: @Sendable (String) -> Void, created: inout [String]) async throws {
        progress("community: an experience, questions and answers")
        func principal(_ key: String) -> Principal { .user(users[key]!, session: SessionID("ses_demo_\(key)")) }
        let bobsOrders = try await services.escrow.orders(role: .buyer, status: .completed, page: try PageRequest(limit: 50), by: principal("bob")).items
        if let tea = bobsOrders.last(where: { $0.sellerID == users["lotus"]!.id }) {
            let tin = UploadedFile(fileName: "oolong-tin.png", declaredType: "image/png", bytes: Array(Data(base64Encoded: Self.teaTinPNG)!))
            _ = try await services.community.share(
                order: tea.id, text: "The oolong arrived in two days, sealed and well packed. I'll buy here again.", files: [tin], by: principal("bob")
            )
        }
        let oolong = try await services.community.ask(
            about: users["lotus"]!.id, product: "Oolong", text: "Is the oolong from this spring's harvest, and how long does it keep?", by: principal("dana")
        )
        let bobs = try await services.community.answer(oolong.id, text: "Mine was dated April this year; sealed, it kept fine for months.", by: principal("bob"))
        _ = try await services.community.answer(oolong.id, text: "Yes, spring harvest. Keep the tin closed and away from light: a year at least.", by: principal("lotus"))
        _ = try await services.community.vote(bobs.id, helpful: true, by: principal("chen"))
        _ = try await services.community.accept(bobs.id, for: oolong.id, by: principal("dana"))
        let genuine = try await services.community.ask(about: users["shady"]!.id, product: nil, text: "Are your trinkets genuine silver?", by: principal("alice"))
        let scam = try await services.community.answer(genuine.id, text: "Yes! Message me and pay by bank transfer to skip the fees.", by: principal("shady"))
        let report = try await services.reports.create(
            about: .community(.answer(scam.id)), category: .fraud, text: "Asks buyers to pay outside escrow.", by: principal("alice")
        )
        _ = try await services.reports.resolve(report.id, resolution: .hideContent, reasons: "Asks buyers to pay outside escrow, against the trade rules.", by: principal("mia"))
        created.append("community: Bob's experience with Lotus and its photo in Alice's and Chen's feed (/feed); Dana's question on /merchants/\(users["lotus"]!.id)/community with Bob's accepted, buyer-marked answer and Lotus's own; Shady Deals' answer asking for a bank transfer, reported and hidden")
    }

    /// A 32×24 PNG of a green tea tin with a gold band, for the demo's shared experience.
    static let teaTinPNG = "iVBORw0KGgoAAAANSUhEUgAAACAAAAAYCAIAAAAUMWhjAAAALElEQVR42mPQqzWiKWIYtWDUglELjBiurDenKRq1YCRYMJrRRi0YtYD2FgAAi6887qQ+xyIAAAAASUVORK5CYII="

    /// Who is behind the accounts: Lotus Tea House verified its e-mail and its business (a moderator
    /// approved the licence), registered its shop's origin and holds a seal from the Audit Guild;
    /// Northwind Books verified its phone.
    func seedIdentity(_ users: [String: User], now: Date, progress: @Sendable (String) -> Void, created: inout [String]) async throws {
        progress("identity: verified merchants, a certifier and a seal")
        func principal(_ key: String) -> Principal { .user(users[key]!, session: SessionID("ses_demo_\(key)")) }
        let email = try await services.identity.start(.email, details: [:], by: principal("lotus"))
        let mail = try await services.mail.outbox(pendingOnly: false, limit: 5).first { $0.recipient == users["lotus"]!.email }
        if let code = mail?.body.firstMatch(of: /is (\d{6})/)?.1 {
            _ = try await services.identity.submitCode(email.verification.id, code: String(code), by: principal("lotus"))
        }
        let business = try await services.identity.start(
            .business, details: ["companyName": "Lotus Tea House Ltd", "licenceNumber": "HRB 20417", "taxRegistration": "DE811907356"], by: principal("lotus")
        )
        _ = try await services.identity.uploadDocument(business.verification.id, bytes: Array("%PDF-1.4\n% demo licence\n%%EOF\n".utf8), by: principal("lotus"))
        _ = try await services.identity.decide(business.verification.id, approve: true, reason: nil, by: principal("mia"))
        let phone = try await services.identity.start(.phone, details: ["phone": "+44 20 7946 0018"], by: principal("northwind"))
        if let text = try await services.store.read({ try await $0.mail.sandboxSMS(to: "+442079460018", limit: 1) }).first,
            let code = text.firstMatch(of: /code: (\d{6})/)?.1
        {
            _ = try await services.identity.submitCode(phone.verification.id, code: String(code), by: principal("northwind"))
        }
        _ = try await services.seals.registerOrigins(["https://lotus-tea.example"], by: principal("lotus"))
        let seal = try await services.seals.issue(
            to: users["lotus"]!.id, checks: ["Identity of the owner checked against the business register", "Returns honoured within 14 days (20 test orders)"],
            validUntil: now.addingTimeInterval(365 * 86_400), by: principal("audit")
        )
        // One waits in the moderators' review queue (/moderation/verifications).
        let realName = try await services.identity.start(.realName, details: ["fullName": "Wei Chen", "documentNumber": "E12345678"], by: principal("northwind"))
        _ = try await services.identity.uploadDocument(realName.verification.id, bytes: Array("%PDF-1.4\n% demo passport page\n%%EOF\n".utf8), by: principal("northwind"))
        created.append("Lotus Tea House: e-mail and business verified, certified by the Audit Guild (/seals/\(seal.id), managed at /certifier); Northwind Books: phone verified, real name waiting in /moderation/verifications")
        let invitation = try await services.invitations.create(by: principal("alice"))
        created.append("an invitation from Alice, who vouches for whoever signs up with code \(invitation.code)")
    }

    /// What keeps money safe, each in one place a newcomer can open: a partial refund that keeps
    /// the rest held, staff decisions (one carried out, one waiting for a second moderator),
    /// monthly-statement purchases, a cancelled card payment on its way back to the card, and a
    /// swarm of sock puppets in the fraud alerts.
    func seedSafetyScenarios(_ users: [String: User], now: Date, progress: @Sendable (String) -> Void, created: inout [String]) async throws {
        let clock = ManualClock(now.addingTimeInterval(-6 * 86_400))
        let past = services.at(clock)
        func principal(_ key: String) -> Principal { .user(users[key]!, session: SessionID("ses_demo_\(key)")) }
        func order(_ buyer: String, _ seller: String, _ title: String, _ priceMinor: Int64) async throws -> Order {
            try await past.escrow.createOrder(
                NewOrder(sellerID: users[seller]!.id, currency: "EUR", items: [LineItem(title: title, quantity: 1, unitPriceMinor: priceMinor)]), by: principal(buyer)
            )
        }
        progress("safety scenarios: partial refund, staff decisions, statements, a card refund, a swarm")

        // Bright Electronics gives 5.00 back on the charger in escrow: the rest stays held.
        let alice = try await past.escrow.orders(role: .buyer, status: .shipped, page: try PageRequest(limit: 10), by: principal("alice")).items
        if let charger = alice.first(where: { $0.sellerID == users["bright"]!.id }) {
            _ = try await past.escrow.perform(.refund(amountMinor: 500, reason: "The charger ships without its cable"), on: charger.id, by: principal("bright"))
        }

        // A moderator's decision, carried out at once, and a large one waiting for a second moderator.
        let damaged = try await order("bob", "northwind", "Letters of Credit, 2nd ed.", 2_800)
        _ = try await past.escrow.pay(damaged.id, with: .card(token: "tok_visa"), by: principal("bob"))
        _ = try await past.escrow.perform(.ship(carrier: "SF Express", trackingNumber: "DEMO7001"), on: damaged.id, by: principal("northwind"))
        _ = try await past.escrow.proposeDecision(.refund, amountMinor: 1_000, reason: "Arrived water-damaged; photos sent by the buyer", on: damaged.id, by: principal("admin"))
        let teaSet = try await order("chen", "lotus", "Antique Yixing tea set", 82_000)
        _ = try await past.escrow.pay(teaSet.id, with: .card(token: "tok_visa"), by: principal("chen"))
        _ = try await past.escrow.proposeDecision(.cancel, amountMinor: nil, reason: "The seller cannot prove the set is genuine", on: teaSet.id, by: principal("admin"))

        // Dana buys small things on her monthly statement, and cancels one card payment.
        _ = try await past.payments.saveCard(token: "tok_visa", by: principal("dana"))
        for (title, price) in [("Tea sample, 10 g", Int64(350)), ("Bookmark", Int64(600))] {
            let small = try await order("dana", title.hasPrefix("Tea") ? "lotus" : "northwind", title, price)
            _ = try await past.escrow.pay(small.id, with: .statement(), by: principal("dana"))
        }
        let changedMind = try await order("dana", "lotus", "Jasmine pearls, 250 g", 4_200)
        _ = try await past.escrow.pay(changedMind.id, with: .card(token: "tok_visa"), by: principal("dana"))
        _ = try await past.escrow.perform(.cancel(reason: "Changed my mind before it shipped"), on: changedMind.id, by: principal("dana"))

        // Ten brand-new accounts each buy a trinket from Shady Deals and praise it within a week.
        for index in 1...10 {
            clock.advance(by: 3_600 * 6)
            let puppet = "puppet\(index)"
            let trinket = try await order(puppet, "shady", "Trinket #\(index)", 500)
            _ = try await past.escrow.pay(trinket.id, with: .card(token: "tok_visa"), by: principal(puppet))
            _ = try await past.escrow.perform(.ship(carrier: "Post", trackingNumber: "SHADY\(index)"), on: trinket.id, by: principal("shady"))
            _ = try await past.escrow.perform(.confirmReceipt, on: trinket.id, by: principal(puppet))
            _ = try await past.ratings.rate(trinket.id, RatingSubmission(
                overall: .positive, detailed: DetailedRatings(itemAsDescribed: 5, serviceAttitude: 5, shippingSpeed: 5), comment: "Best seller ever!!!"
            ), by: principal(puppet))
            _ = try await past.ratings.rate(trinket.id, RatingSubmission(overall: .positive), by: principal("shady"))
        }
        created.append("a partial refund that keeps the rest in escrow; two staff decisions (one awaiting a second moderator: log in as mia); statement purchases; a cancelled card payment; a swarm of ten sock puppets around Shady Deals, whose orders jumped from none to more than ten in a week (both in /moderation/fraud-alerts)")
    }

    /// When trades go wrong: an open dispute with the seller's deadline running, one escalated to
    /// the moderators' queue, a counterfeit ruling that refunds the buyer and penalises Shady
    /// Deals (points, a fine from its deposit, a restriction on new sales), a report in the queue
    /// and the seller's response time from order messages.
    func seedDisputes(_ users: [String: User], now: Date, progress: @Sendable (String) -> Void, created: inout [String]) async throws {
        let clock = ManualClock(now.addingTimeInterval(-4 * 86_400))
        let past = services.at(clock)
        func principal(_ key: String) -> Principal { .user(users[key]!, session: SessionID("ses_demo_\(key)")) }
        func shipped(_ buyer: String, _ seller: String, _ title: String, _ priceMinor: Int64) async throws -> Order {
            let order = try await past.escrow.createOrder(
                NewOrder(sellerID: users[seller]!.id, currency: "EUR", items: [LineItem(title: title, quantity: 1, unitPriceMinor: priceMinor)]), by: principal(buyer)
            )
            _ = try await past.escrow.pay(order.id, with: .card(token: "tok_visa"), by: principal(buyer))
            clock.advance(by: 3_600)
            return try await past.escrow.perform(.ship(carrier: "DHL", trackingNumber: "DEMO-\(title.prefix(3).uppercased())"), on: order.id, by: principal(seller))
        }
        progress("disputes: one open, one with the moderators, a counterfeit ruling and its penalty, a report")

        // Shady Deals sells a "designer" handbag; Alice disputes it as counterfeit, a moderator
        // rules for her: a full refund, 24 points and a 200.00 EUR fine from the deposit.
        _ = try await past.payments.placeDeposit(currency: "EUR", amountMinor: 30_000, from: .card(token: "tok_visa"), by: principal("shady"))
        let handbag = try await shipped("alice", "shady", "Designer handbag (\"genuine\")", 12_000)
        clock.advance(by: 86_400)
        let fake = try await past.disputes.open(on: handbag.id, NewDispute(
            reason: .counterfeit, description: "The stitching and the logo are wrong; the serial number does not exist on the brand's site."
        ), by: principal("alice"))
        _ = try await past.disputes.respond(to: fake.id, .refuse(statement: "It is genuine, bought from a wholesaler."), by: principal("shady"))
        _ = try await past.disputes.escalate(fake.id, by: principal("alice"))
        clock.advance(by: 3_600 * 5)
        _ = try await past.disputes.take(fake.id, by: principal("admin"))
        _ = try await past.disputes.resolve(fake.id, ruling: .refund(amountMinor: 12_000), reasons: """
            The brand confirmed the serial number does not exist, and the seller showed no invoice from an authorised \
            wholesaler. Full refund; the counterfeit rule applies.
            """, by: principal("admin"))

        // Chen never got his book; Northwind says it was delivered, and Chen asked a moderator.
        clock.set(now.addingTimeInterval(-36 * 3_600))
        let book = try await shipped("chen", "northwind", "A History of Markets (signed)", 2_200)
        _ = try await past.messages.send(on: book.id, text: "Hello, the tracking has not moved for a week. Any news?", by: principal("chen"))
        clock.advance(by: 2 * 3_600)
        _ = try await past.messages.send(on: book.id, text: "The carrier says it was delivered to your building's mailroom.", by: principal("northwind"))
        let lost = try await past.disputes.open(on: book.id, NewDispute(reason: .notReceived, description: "Nothing in the mailroom; the carrier has no signature."), by: principal("chen"))
        _ = try await past.disputes.respond(to: lost.id, .refuse(statement: "The carrier's scan shows delivery."), by: principal("northwind"))
        _ = try await past.disputes.escalate(lost.id, by: principal("chen"))

        // Bob's speaker is not what the listing said; Bright Electronics has until the deadline to answer.
        clock.set(now.addingTimeInterval(-86_400))
        let speaker = try await shipped("bob", "bright", "Bluetooth speaker, 20 W", 4_500)
        _ = try await past.disputes.open(on: speaker.id, NewDispute(
            reason: .notAsDescribed, remedy: .partialRefund, amountMinor: 2_000, description: "It is 10 W, not 20 W as listed. I would keep it for 20.00 back."
        ), by: principal("bob"))

        // Dana reports one of the sock puppets' ratings of Shady Deals.
        if let rating = try await past.ratings.ratings(of: users["shady"]!.id, received: true, side: .buyerRatesSeller, page: try PageRequest(limit: 1), by: .anonymous).items.first {
            _ = try await past.reports.create(about: .rating(rating.id), category: .fakeRating,
                                              text: "Ten new accounts praised this seller within a week, each with the same words.", by: principal("dana"))
        }
        created.append("disputes: an open one (Bob and Bright Electronics), one in the moderators' queue (Chen and Northwind Books), a counterfeit ruling that penalised Shady Deals (see its profile), and a report of a fake rating")
    }
}
