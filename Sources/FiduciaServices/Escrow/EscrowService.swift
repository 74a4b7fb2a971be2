import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// Orders with escrow (B1, B2, B7, B8): creation, every state change, timeouts.
///
/// Each action is one transaction: the order row is locked, the pure `EscrowMachine` decides,
/// then the money moves on the ledger, the order is saved and its timeouts are (re)scheduled,
/// together or not at all.
public struct EscrowService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let ledger: LedgerService
    let provider: any PaymentProvider
    public let settings: EscrowSettings
    let logger: Logger

    init(store: Store, clock: any WallClock, random: any RandomSource, ledger: LedgerService, provider: any PaymentProvider, settings: EscrowSettings, logger: Logger) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.ledger = ledger
        self.provider = provider
        self.settings = settings
        self.logger = logger
    }

    // MARK: Creating and reading

    /// Creates an order from the buyer (the acting user) to a seller, with the seller's after-sales
    /// policy as it stands now.
    public func createOrder(_ request: NewOrder, by principal: Principal) async throws -> Order {
        let buyer = try principal.requireRole(.buyer)
        let (currency, total) = try request.validated()
        guard buyer.id != request.sellerID else { throw EscrowError.buyerIsSeller }
        let now = clock.now()
        let id: OrderID = ids.make()
        let settings = settings
        return try await store.write { repositories in
            guard let seller = try await repositories.users.find(request.sellerID), seller.has(.seller) else {
                throw EscrowError.sellerNotFound
            }
            let policy = try await repositories.orders.policy(seller: seller.id)
            let payBy = now.addingTimeInterval(settings.paymentWindowSeconds)
            let order = Order(
                id: id, buyerID: buyer.id, sellerID: seller.id, currency: currency,
                items: request.items.map { LineItem(title: $0.title.trimmingWhitespace(), quantity: $0.quantity, unitPriceMinor: $0.unitPriceMinor) },
                totalMinor: total, policy: policy, feeBasisPoints: settings.feeBasisPoints, fundShareBasisPoints: settings.fundShareBasisPoints,
                createdAt: now, payBy: payBy,
                timeline: [OrderEvent(at: now, kind: .created, actor: buyer.id, detail: "Order of \(Money.format(total, currency)) created by the buyer.")]
            )
            try await repositories.orders.insert(order, now: now)
            try await schedule([.schedule(.expireUnpaid, dueAt: payBy)], for: order, in: repositories, now: now)
            return order
        }
    }

    /// An order, if the caller may see it (its buyer, its seller, staff, or the API client that
    /// created either party); otherwise `NotFoundError`, so as not to reveal that it exists.
    public func order(_ id: OrderID, by principal: Principal) async throws -> Order {
        let found = try await store.read { repositories -> (Order, [UserID: User])? in
            guard let order = try await repositories.orders.find(id, lock: false) else { return nil }
            return (order, try await repositories.users.find([order.buyerID, order.sellerID]))
        }
        guard let (order, parties) = found, Self.maySee(order, parties: parties, principal) else {
            throw NotFoundError(entity: "order", id: id.rawValue)
        }
        return order
    }

    static func maySee(_ order: Order, parties: [UserID: User], _ principal: Principal) -> Bool {
        if let user = principal.actingUser, user.id == order.buyerID || user.id == order.sellerID || user.isStaff { return true }
        if let client = principal.apiClient, principal.actingUser == nil {
            return parties.values.contains { $0.createdByClientID == client.id }
        }
        return false
    }

    /// Which orders a list shows.
    public enum ListRole: String, Sendable {
        case buyer, seller, any
    }

    /// The caller's orders (as buyer, seller or either); staff asking for `any` see every order.
    public func orders(role: ListRole, status: OrderStatus?, page: PageRequest, by principal: Principal) async throws -> Page<Order> {
        let user = try principal.requireUser()
        let filter: OrderFilter =
            switch role {
            case .buyer: .buyer(user.id)
            case .seller: .seller(user.id)
            case .any: user.isStaff ? .all : .party(user.id)
            }
        let fetched = try await store.read {
            try await $0.orders.list(filter, status: status, after: page.after.map(OrderID.init), limit: page.limit + 1)
        }
        return Page(fetched: fetched, limit: page.limit, identifier: \.id.rawValue)
    }

    public func policy(of seller: UserID) async throws -> AfterSalesPolicy {
        try await store.read { try await $0.orders.policy(seller: seller) }
    }

    /// Sets the acting seller's after-sales policy for future orders (existing orders keep theirs).
    public func setPolicy(_ policy: AfterSalesPolicy, by principal: Principal) async throws -> AfterSalesPolicy {
        let seller = try principal.requireRole(.seller)
        let policy = try policy.validated()
        let now = clock.now()
        try await store.write { try await $0.orders.setPolicy(policy, seller: seller.id, now: now) }
        return policy
    }

    // MARK: Acting

    /// Performs any action except paying (see `pay`) on behalf of the caller.
    public func perform(_ action: OrderAction, on id: OrderID, by principal: Principal) async throws -> Order {
        let now = clock.now()
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(id, lock: true) else { throw NotFoundError(entity: "order", id: id.rawValue) }
            let actor = try escrowActor(principal, for: order)
            return try await apply(action, to: order, by: actor, in: repositories, now: now)
        }
    }

    /// Pays for an order. A card is charged first (idempotently, keyed by the order), then the
    /// payment is recorded and held in escrow in one transaction. If that transaction fails and
    /// the order did not end up paid by this card, the charge is refunded.
    public func pay(_ id: OrderID, with method: PaymentMethod, by principal: Principal) async throws -> Order {
        // Check first, so that an order that cannot be paid is never charged.
        let order = try await self.order(id, by: principal)
        let actor = try escrowActor(principal, for: order)
        _ = try EscrowMachine.apply(.pay(method), to: order, by: actor, at: clock.now(), settings: settings)
        if case .statement = method {
            guard try await store.read({ try await $0.payments.savedCard(user: order.buyerID) }) != nil else {
                throw PaymentError.savedCardRequired
            }
        }

        var method = method
        var chargeID: String?
        if case .card(let token, _) = method {
            // One charge per order and card: retrying with the same card never charges twice, and
            // a different card after a decline is a new attempt.
            let outcome = try await provider.charge(ChargeRequest(
                idempotencyKey: "order:\(id):charge:\(token)", amountMinor: order.totalMinor, currency: order.currency, cardToken: token
            ))
            switch outcome {
            case .declined(let reason): throw EscrowError.paymentDeclined(reason)
            case .succeeded(let charge):
                chargeID = charge
                method = .card(token: token, chargeID: charge)
            }
        }
        let paymentMethod = method
        do {
            let now = clock.now()
            return try await store.write { repositories in
                guard let order = try await repositories.orders.find(id, lock: true) else { throw NotFoundError(entity: "order", id: id.rawValue) }
                let actor = try escrowActor(principal, for: order)
                let paid = try await apply(.pay(paymentMethod), to: order, by: actor, in: repositories, now: now)
                if case .statement = paymentMethod {
                    var statement = try await repositories.payments.openStatement(
                        buyer: order.buyerID, currency: order.currency, month: MonthName.of(now), newID: ids.make(), now: now
                    )
                    statement.totalMinor += order.totalMinor
                    statement.itemCount += 1
                    try await repositories.payments.updateStatement(statement)
                }
                return paid
            }
        } catch {
            // The charge is refunded unless it is the one that paid the order (a concurrent
            // request with the same card may have recorded it first).
            if let chargeID {
                let current = try? await store.read { try await $0.orders.find(id, lock: false) }
                if current?.paymentReference != chargeID {
                    logger.warning("refunding a card charge whose payment could not be recorded", metadata: ["order": "\(id)", "charge": "\(chargeID)"])
                    try? await provider.refund(chargeID: chargeID, amountMinor: order.totalMinor)
                }
            }
            throw error
        }
    }

    /// Applies an action inside an existing transaction: decides, moves the money, saves, schedules.
    func apply(_ action: OrderAction, to order: Order, by actor: EscrowActor, in repositories: Repositories, now: Date) async throws -> Order {
        var position = SellerPosition()
        if action.movesSellerMoney {
            position = try await ledger.sellerPosition(for: order, in: repositories, now: now)
        }
        let transition = try EscrowMachine.apply(action, to: order, by: actor, at: now, settings: settings, seller: position)
        try await ledger.execute(transition.money, currency: order.currency, orderID: order.id, in: repositories, now: now)
        try await repositories.orders.update(transition.order, now: now)
        try await schedule(transition.timeouts, for: order, in: repositories, now: now)
        if transition.order.status != order.status, transition.order.status == .completed || transition.order.status == .refunded {
            // A finished trade changes both parties' records.
            try await CreditService.scheduleRefresh(order.sellerID, role: .seller, in: repositories, now: now, ids: ids)
            try await CreditService.scheduleRefresh(order.buyerID, role: .buyer, in: repositories, now: now, ids: ids)
        }
        return transition.order
    }

    private func schedule(_ timeouts: [EscrowTimeout], for order: Order, in repositories: Repositories, now: Date) async throws {
        for timeout in timeouts {
            switch timeout {
            case .schedule(let kind, let dueAt):
                try await repositories.jobs.schedule(
                    Job(id: ids.make(), kind: kind.rawValue, uniqueKey: "\(kind.rawValue):\(order.id)", payload: order.id.rawValue, dueAt: dueAt),
                    now: now
                )
            case .cancel(let kind):
                try await repositories.jobs.cancel(uniqueKey: "\(kind.rawValue):\(order.id)", now: now)
            }
        }
    }

    /// The caller's part in this order. Parties act as themselves; staff as staff; an API client
    /// acts only through the user it acts for. Anyone else gets `NotFoundError`.
    private func escrowActor(_ principal: Principal, for order: Order) throws -> EscrowActor {
        let user = try principal.requireUser()
        if user.id == order.buyerID { return .buyer(user.id) }
        if user.id == order.sellerID { return .seller(user.id) }
        if user.isStaff { return .staff(user.id) }
        throw NotFoundError(entity: "order", id: order.id.rawValue)
    }

    // MARK: Timeouts

    /// Job handlers for the order timeouts. Each re-checks the order: if someone acted first
    /// (paid, confirmed), there is nothing left to do and the job simply completes.
    var jobHandlers: [JobHandler] {
        [
            JobHandler(kind: EscrowTimeout.Kind.expireUnpaid.rawValue) { job, repositories, now in
                guard let order = try await repositories.orders.find(OrderID(job.payload), lock: true), order.status == .created, now >= order.payBy else { return }
                _ = try await apply(.expire, to: order, by: .system, in: repositories, now: now)
            },
            JobHandler(kind: EscrowTimeout.Kind.autoComplete.rawValue) { job, repositories, now in
                guard let order = try await repositories.orders.find(OrderID(job.payload), lock: true), order.status == .shipped,
                    let confirmBy = order.confirmBy, now >= confirmBy, order.refundRequest == nil, !order.escrowFrozen
                else { return }
                _ = try await apply(.autoComplete, to: order, by: .system, in: repositories, now: now)
            },
        ]
    }
}

extension OrderAction {
    /// Actions whose money movements depend on what the seller holds or owes.
    var movesSellerMoney: Bool {
        switch self {
        case .confirmReceipt, .autoComplete, .refund: true
        default: false
        }
    }
}

extension LedgerService {
    /// Locks, in the ledger's fixed order, every account an order's money can touch, then reads
    /// the seller's position from them, so that the plan and its execution see the same balances.
    func sellerPosition(for order: Order, in repositories: Repositories, now: Date) async throws -> SellerPosition {
        let references: [AccountReference] = [
            AccountReference(.user(order.buyerID), .available),
            AccountReference(.user(order.sellerID), .available),
            AccountReference(.user(order.sellerID), .deposit),
            AccountReference(.user(order.sellerID), .debt),
            .platform(.fees), .platform(.guaranteeFund), .platform(.guaranteeClaims),
        ]
        let accounts = try await repositories.ledger.lockAccounts(
            references.sorted(by: AccountReference.lockOrder), currency: order.currency, newID: { ids.make() }, now: now
        )
        func seller(_ kind: LedgerAccountKind) -> LedgerBalances { accounts[AccountReference(.user(order.sellerID), kind)]!.balances }
        var position = SellerPosition()
        position.availableMinor = seller(.available).spendable
        position.depositMinor = seller(.deposit).spendable
        position.debtMinor = seller(.debt).debitsPosted - seller(.debt).creditsPosted
        return position
    }
}
