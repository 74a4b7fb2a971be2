import FiduciaDomain
import Foundation
import Testing

/// A ledger kept in memory with the real `LedgerRules`, to replay what the state machine asks for.
struct MemoryLedger {
    var accounts: [AccountReference: LedgerAccount] = [:]
    var transfers: [String: Transfer] = [:]
    var resolved: Set<TransferID> = []
    var sequence = 0
    let currency = Currency("EUR")!

    mutating func account(_ reference: AccountReference) -> LedgerAccount {
        if let account = accounts[reference] { return account }
        sequence += 1
        let account = LedgerAccount(id: LedgerAccountID("acc_\(sequence)"), owner: reference.owner, kind: reference.kind, currency: currency)
        accounts[reference] = account
        return account
    }

    mutating func execute(_ movements: [MoneyMovement], order: OrderID?) throws {
        let saved = self
        do {
            for movement in movements {
                var debit = account(movement.debit)
                var credit = account(movement.credit)
                var pending: Transfer?
                var mode = TransferMode.posted
                var amount = movement.amountMinor
                switch movement.mode {
                case .posted: break
                case .pending: mode = .pending
                case .postPending(let reference), .voidPending(let reference):
                    let hold = try #require(transfers[reference])
                    guard !resolved.contains(hold.id) else { throw LedgerError.pendingTransferAlreadyResolved(hold.id) }
                    pending = hold
                    amount = hold.amountMinor
                    if case .postPending = movement.mode { mode = .postPending(hold.id) } else { mode = .voidPending(hold.id) }
                }
                sequence += 1
                let transfer = Transfer(
                    id: TransferID("trf_\(sequence)"), debitAccountID: debit.id, creditAccountID: credit.id, amountMinor: amount, currency: currency,
                    mode: mode, purpose: movement.purpose, reference: movement.reference, orderID: order, createdAt: Date(timeIntervalSince1970: 0)
                )
                guard transfers[movement.reference] == nil else { throw LedgerError.duplicateReference(movement.reference) }
                try LedgerRules.apply(transfer, debit: &debit, credit: &credit, pending: pending)
                if let pending { resolved.insert(pending.id) }
                transfers[movement.reference] = transfer
                accounts[movement.debit] = debit
                accounts[movement.credit] = credit
            }
        } catch {
            self = saved
            throw error
        }
    }

    func balance(_ reference: AccountReference) -> LedgerBalances { accounts[reference]?.balances ?? .init() }

    func position(of seller: UserID) -> SellerPosition {
        let debt = balance(AccountReference(.user(seller), .debt))
        return SellerPosition(
            availableMinor: balance(AccountReference(.user(seller), .available)).spendable,
            depositMinor: balance(AccountReference(.user(seller), .deposit)).spendable,
            debtMinor: debt.debitsPosted - debt.creditsPosted
        )
    }

    func audit(orders: [Order]) -> LedgerAudit.Report {
        var audit = LedgerAudit()
        for transfer in transfers.values { audit.add(transfer) }
        var held: [OrderID: (Currency, Int64)] = [:]
        for order in orders where order.status.holdsEscrow { held[order.id] = (order.currency, order.totalMinor) }
        return audit.finish(accounts: Array(accounts.values), heldOrders: held)
    }
}

@Suite("Escrow state machine")
struct EscrowMachineTests {
    let buyer = UserID("usr_buyer")
    let seller = UserID("usr_seller")
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let settings = EscrowSettings()

    func order(total: Int64 = 10_000, returnWindowDays: Int = 7) -> Order {
        Order(
            id: OrderID("ord_1"), buyerID: buyer, sellerID: seller, currency: Currency("EUR")!,
            items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: total)], totalMinor: total,
            policy: AfterSalesPolicy(returnWindowDays: returnWindowDays, genuineGoodsGuarantee: true),
            feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: start, payBy: start.addingTimeInterval(86_400)
        )
    }

    func step(_ action: OrderAction, _ order: Order, by actor: EscrowActor, at offset: TimeInterval = 60, ledger: inout MemoryLedger) throws -> Order {
        let position = ledger.position(of: seller)
        let transition = try EscrowMachine.apply(action, to: order, by: actor, at: start.addingTimeInterval(offset), settings: settings, seller: position)
        try ledger.execute(transition.money, order: order.id)
        return transition.order
    }

    @Test func feeSplitIsHandComputedAndExact() {
        let split = FeeSplit(totalMinor: 10_000, feeBasisPoints: 200, fundShareBasisPoints: 2_000)
        #expect(split.sellerNetMinor == 9_800)
        #expect(split.platformFeeMinor == 160)
        #expect(split.fundContributionMinor == 40)
        // 2% of 25 is 0.5: rounded half up to 1; a fifth of 1 rounds down to 0.
        let small = FeeSplit(totalMinor: 25, feeBasisPoints: 200, fundShareBasisPoints: 2_000)
        #expect((small.sellerNetMinor, small.platformFeeMinor, small.fundContributionMinor) == (24, 1, 0))
        // No overflow near the largest totals.
        let huge = FeeSplit(totalMinor: 500_000_000_000_000_000, feeBasisPoints: 10_000, fundShareBasisPoints: 10_000)
        #expect(huge.fundContributionMinor == 500_000_000_000_000_000)
    }

    @Test func aFullTradeHoldsThenReleasesTheMoney() throws {
        var ledger = MemoryLedger()
        var current = order()
        current = try step(.pay(.card(token: "tok_visa")), current, by: .buyer(buyer), ledger: &ledger)
        #expect(current.status == .paid)
        #expect(ledger.balance(AccountReference(.user(buyer), .available)).debitsPending == 10_000)
        #expect(ledger.balance(AccountReference(.user(seller), .available)).creditsPending == 9_800)
        #expect(ledger.balance(AccountReference(.user(seller), .available)).spendable == 0)

        current = try step(.ship(carrier: "SF Express", trackingNumber: "SF123"), current, by: .seller(seller), ledger: &ledger)
        #expect(current.confirmBy == start.addingTimeInterval(60 + settings.autoCompleteSeconds))
        current = try step(.confirmReceipt, current, by: .buyer(buyer), at: 3_600, ledger: &ledger)
        #expect(current.status == .completed)
        #expect(ledger.balance(AccountReference(.user(seller), .available)).spendable == 9_800)
        #expect(ledger.balance(.platform(.fees)).creditsPosted == 160)
        #expect(ledger.balance(.platform(.guaranteeFund)).creditsPosted == 40)
        #expect(ledger.balance(AccountReference(.user(buyer), .available)).spendable == 0)
        #expect(ledger.audit(orders: [current]).isClean)
        #expect(current.timeline.map(\.kind) == [.paid, .shipped, .receiptConfirmed])
    }

    @Test func illegalMovesAreNamedAndChangeNothing() throws {
        let created = order()
        #expect(throws: EscrowError.illegalTransition(action: "shipped", status: .created)) {
            try EscrowMachine.apply(.ship(carrier: "X", trackingNumber: "1"), to: created, by: .seller(seller), at: start, settings: settings)
        }
        #expect(throws: EscrowError.notAllowed(action: "paid")) {
            try EscrowMachine.apply(.pay(.balance), to: created, by: .seller(seller), at: start, settings: settings)
        }
        #expect(throws: EscrowError.notAllowed(action: "paid")) {
            try EscrowMachine.apply(.pay(.balance), to: created, by: .buyer(UserID("usr_stranger")), at: start, settings: settings)
        }
        #expect(throws: EscrowError.paymentWindowClosed) {
            try EscrowMachine.apply(.pay(.balance), to: created, by: .buyer(buyer), at: start.addingTimeInterval(86_400), settings: settings)
        }
        #expect(throws: EscrowError.notAllowed(action: "expired")) {
            try EscrowMachine.apply(.expire, to: created, by: .buyer(buyer), at: start.addingTimeInterval(90_000), settings: settings)
        }
        var ledger = MemoryLedger()
        var paid = try step(.pay(.card(token: "t")), created, by: .buyer(buyer), ledger: &ledger)
        #expect(throws: EscrowError.illegalTransition(action: "paid", status: .paid)) {
            try EscrowMachine.apply(.pay(.card(token: "t")), to: paid, by: .buyer(buyer), at: start, settings: settings)
        }
        paid.escrowFrozen = true
        let shipped = try step(.ship(carrier: "X", trackingNumber: "1"), paid, by: .seller(seller), ledger: &ledger)
        #expect(throws: EscrowError.escrowFrozen) {
            try EscrowMachine.apply(.confirmReceipt, to: shipped, by: .buyer(buyer), at: start, settings: settings)
        }
    }

    @Test func autoCompletionWaitsForTheDeadlineAndForRefundRequests() throws {
        var ledger = MemoryLedger()
        // A buyer paying from an empty balance is refused by the ledger, not the machine.
        #expect(throws: LedgerError.self) { try ledger.execute(EscrowMachine.apply(.pay(.balance), to: order(), by: .buyer(buyer), at: start, settings: settings).money, order: nil) }

        var current = try step(.pay(.card(token: "t")), order(), by: .buyer(buyer), ledger: &ledger)
        current = try step(.ship(carrier: "X", trackingNumber: "1"), current, by: .seller(seller), at: 0, ledger: &ledger)
        #expect(throws: EscrowError.confirmationNotDue) {
            try EscrowMachine.apply(.autoComplete, to: current, by: .system, at: start.addingTimeInterval(settings.autoCompleteSeconds - 1), settings: settings)
        }
        current = try step(.extendConfirmation(days: 3), current, by: .seller(seller), at: 10, ledger: &ledger)
        #expect(throws: EscrowError.extensionAlreadyUsed) {
            try EscrowMachine.apply(.extendConfirmation(days: 1), to: current, by: .seller(seller), at: start, settings: settings)
        }
        let due = settings.autoCompleteSeconds + 3 * 86_400
        #expect(throws: EscrowError.confirmationNotDue) {
            try EscrowMachine.apply(.autoComplete, to: current, by: .system, at: start.addingTimeInterval(due - 1), settings: settings)
        }
        let asked = try step(.requestRefund(amountMinor: nil, reason: "broken"), current, by: .buyer(buyer), at: 20, ledger: &ledger)
        #expect(asked.refundRequest?.amountMinor == 10_000)
        #expect(throws: EscrowError.refundRequested) {
            try EscrowMachine.apply(.autoComplete, to: asked, by: .system, at: start.addingTimeInterval(due), settings: settings)
        }
        let completed = try step(.autoComplete, current, by: .system, at: due, ledger: &ledger)
        #expect(completed.status == .completed)
        #expect(ledger.audit(orders: [completed]).isClean)
    }

    @Test func cancellingAPaidOrderReturnsEverything() throws {
        var ledger = MemoryLedger()
        let paid = try step(.pay(.card(token: "t")), order(), by: .buyer(buyer), ledger: &ledger)
        let cancelled = try step(.cancel(reason: "changed my mind"), paid, by: .buyer(buyer), ledger: &ledger)
        #expect(cancelled.status == .cancelled)
        #expect(ledger.balance(AccountReference(.user(buyer), .available)).spendable == 10_000)
        #expect(ledger.balance(AccountReference(.user(seller), .available)) == LedgerBalances())
        #expect(ledger.balance(.platform(.fees)).creditsPosted == 0)
        #expect(ledger.audit(orders: [cancelled]).isClean)
        #expect(throws: EscrowError.illegalTransition(action: "cancelled", status: .cancelled)) {
            try EscrowMachine.apply(.cancel(reason: nil), to: cancelled, by: .seller(seller), at: start, settings: settings)
        }
    }

    @Test func partialRefundBeforeCompletionSettlesTheRest() throws {
        var ledger = MemoryLedger()
        var current = try step(.pay(.card(token: "t")), order(), by: .buyer(buyer), ledger: &ledger)
        current = try step(.ship(carrier: "X", trackingNumber: "1"), current, by: .seller(seller), ledger: &ledger)
        current = try step(.refund(amountMinor: 4_000, reason: "one cup broken"), current, by: .seller(seller), ledger: &ledger)
        #expect(current.status == .refunded)
        #expect(current.refundedMinor == 4_000)
        // The seller keeps 6 000 minus 2% (120): 5 880; the buyer gets 4 000 back.
        #expect(ledger.balance(AccountReference(.user(buyer), .available)).spendable == 4_000)
        #expect(ledger.balance(AccountReference(.user(seller), .available)).spendable == 5_880)
        #expect(ledger.audit(orders: [current]).isClean)
    }

    @Test func refundBeyondTheSellersBalanceIsPaidByTheGuaranteeFund() throws {
        var ledger = MemoryLedger()
        // The fund has money, and the seller has a 3 000 deposit.
        try ledger.execute([
            MoneyMovement(debit: .platform(.external), credit: .platform(.guaranteeFund), amountMinor: 50_000, mode: .posted, purpose: .fundTopUp, reference: "seed"),
            MoneyMovement(debit: .platform(.external), credit: AccountReference(.user(seller), .deposit), amountMinor: 3_000, mode: .posted, purpose: .depositPlaced, reference: "deposit"),
        ], order: nil)
        var current = try step(.pay(.card(token: "t")), order(), by: .buyer(buyer), ledger: &ledger)
        current = try step(.ship(carrier: "X", trackingNumber: "1"), current, by: .seller(seller), ledger: &ledger)
        current = try step(.confirmReceipt, current, by: .buyer(buyer), ledger: &ledger)
        // The seller pays out 9 000 of the 9 800 they received.
        try ledger.execute([
            MoneyMovement(debit: AccountReference(.user(seller), .available), credit: .platform(.external), amountMinor: 9_000, mode: .posted, purpose: .payout, reference: "payout"),
        ], order: nil)
        current = try step(.refund(amountMinor: nil, reason: "not genuine"), current, by: .seller(seller), at: 86_400, ledger: &ledger)
        // 800 from the seller, 9 200 from the fund at once; the seller's 3 000 deposit goes back
        // to the fund and 6 200 remains owed.
        #expect(ledger.balance(AccountReference(.user(buyer), .available)).spendable == 10_000)
        #expect(ledger.balance(AccountReference(.user(seller), .available)).spendable == 0)
        #expect(ledger.position(of: seller).debtMinor == 6_200)
        #expect(ledger.position(of: seller).depositMinor == 0)
        #expect(ledger.balance(.platform(.guaranteeFund)).postedCreditBalance == 50_000 + 40 - 9_200 + 3_000)
        #expect(ledger.audit(orders: [current]).isClean)

        // The seller's next sale repays the fund first.
        var next = order(total: 20_000)
        next = Order(
            id: OrderID("ord_2"), buyerID: buyer, sellerID: seller, currency: next.currency, items: next.items, totalMinor: 20_000,
            policy: next.policy, feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: start, payBy: start.addingTimeInterval(86_400)
        )
        next = try step(.pay(.card(token: "t")), next, by: .buyer(buyer), ledger: &ledger)
        next = try step(.ship(carrier: "X", trackingNumber: "2"), next, by: .seller(seller), ledger: &ledger)
        next = try step(.confirmReceipt, next, by: .buyer(buyer), ledger: &ledger)
        #expect(ledger.position(of: seller).debtMinor == 0)
        #expect(ledger.balance(AccountReference(.user(seller), .available)).spendable == 19_600 - 6_200)
        #expect(ledger.audit(orders: [current, next]).isClean)
    }

    @Test func refundsCloseWithTheReturnWindow() throws {
        var ledger = MemoryLedger()
        var current = try step(.pay(.card(token: "t")), order(returnWindowDays: 7), by: .buyer(buyer), ledger: &ledger)
        current = try step(.ship(carrier: "X", trackingNumber: "1"), current, by: .seller(seller), ledger: &ledger)
        current = try step(.confirmReceipt, current, by: .buyer(buyer), at: 0, ledger: &ledger)
        let late = start.addingTimeInterval(7 * 86_400 + 1)
        #expect(throws: EscrowError.refundWindowClosed) {
            try EscrowMachine.apply(.requestRefund(amountMinor: nil, reason: "late"), to: current, by: .buyer(buyer), at: late, settings: settings)
        }
        #expect(throws: EscrowError.refundWindowClosed) {
            try EscrowMachine.apply(.refund(amountMinor: 100, reason: nil), to: current, by: .seller(seller), at: late, settings: settings)
        }
        #expect(throws: EscrowError.refundAmountInvalid(maximumMinor: 10_000)) {
            try EscrowMachine.apply(.refund(amountMinor: 10_001, reason: nil), to: current, by: .seller(seller), at: start, settings: settings)
        }
    }

    @Test func ordersValidateAndNeverOverflow() throws {
        let ok = NewOrder(sellerID: seller, currency: "EUR", items: [LineItem(title: "Tea", quantity: 3, unitPriceMinor: 1_250)])
        #expect(try ok.validated().totalMinor == 3_750)
        let huge = NewOrder(sellerID: seller, currency: "EUR", items: Array(repeating: LineItem(title: "Gold", quantity: 10_000, unitPriceMinor: 1_000_000_000_000), count: 50))
        #expect(try huge.validated().totalMinor == 500_000_000_000_000_000)
        let error = #expect(throws: ValidationError.self) {
            try NewOrder(sellerID: seller, currency: "euro", items: [LineItem(title: " ", quantity: 0, unitPriceMinor: -5)]).validated()
        }
        #expect(Set(error?.fieldErrors.map(\.field) ?? []) == ["currency", "items[0].title", "items[0].quantity", "items[0].unitPriceMinor"])
    }

    /// Random walks through the state machine with several orders between the same people: after
    /// every accepted step the ledger must balance, no balance may go negative, and the open holds
    /// must equal the orders whose money is in escrow.
    @Test(arguments: 1...20)
    func randomWalksKeepEveryLedgerInvariant(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var ledger = MemoryLedger()
        try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .platform(.guaranteeFund), amountMinor: 1_000_000, mode: .posted, purpose: .fundTopUp, reference: "seed")], order: nil)
        var created = 0
        func freshOrder(at time: TimeInterval) -> Order {
            created += 1
            let total = Int64.random(in: 1...50_000, using: &random)
            return Order(
                id: OrderID("ord_\(created)"), buyerID: buyer, sellerID: seller, currency: Currency("EUR")!,
                items: [LineItem(title: "Item", quantity: 1, unitPriceMinor: total)], totalMinor: total, policy: .standard,
                feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: start.addingTimeInterval(time),
                payBy: start.addingTimeInterval(time + 86_400)
            )
        }
        var orders = (0..<4).map { _ in freshOrder(at: 0) }
        var finished: [Order] = []
        var now: TimeInterval = 0
        var accepted = 0
        for _ in 0..<200 {
            now += Double.random(in: 0...(6 * 3_600), using: &random)
            let index = Int.random(in: 0..<orders.count, using: &random)
            if orders[index].status.isFinal {
                finished.append(orders[index])
                orders[index] = freshOrder(at: now)
            }
            let actions: [(OrderAction, EscrowActor)] = [
                (.pay(.card(token: "t")), .buyer(buyer)), (.pay(.balance), .buyer(buyer)),
                (.ship(carrier: "X", trackingNumber: "1"), .seller(seller)), (.confirmReceipt, .buyer(buyer)), (.autoComplete, .system),
                (.cancel(reason: nil), .buyer(buyer)), (.expire, .system), (.extendConfirmation(days: 2), .seller(seller)),
                (.requestRefund(amountMinor: nil, reason: "r"), .buyer(buyer)),
                (.refund(amountMinor: Int64.random(in: 1...orders[index].totalMinor, using: &random), reason: nil), .seller(seller)),
                (.refund(amountMinor: nil, reason: nil), .seller(seller)),
            ]
            // Half the time the natural next step, so walks reach completion and refunds too.
            let natural: (OrderAction, EscrowActor)? =
                switch orders[index].status {
                case .created: (.pay(.card(token: "t")), .buyer(buyer))
                case .paid: (.ship(carrier: "X", trackingNumber: "1"), .seller(seller))
                case .shipped: (.confirmReceipt, .buyer(buyer))
                default: nil
                }
            let (action, actor) = Bool.random(using: &random) ? (natural ?? actions.randomElement(using: &random)!) : actions.randomElement(using: &random)!
            do {
                orders[index] = try step(action, orders[index], by: actor, at: now, ledger: &ledger)
            } catch is EscrowError {
                continue
            } catch is LedgerError {
                continue
            }
            accepted += 1
            let report = ledger.audit(orders: orders + finished)
            #expect(report.isClean, "seed \(seed) after \(action): \(report.problems)")
            if !report.isClean { return }
        }
        // The walk must actually move money, not just bounce off illegal moves.
        #expect(accepted >= 60, "seed \(seed) accepted only \(accepted) steps")
        #expect(finished.contains { $0.status == .completed } || orders.contains { $0.status == .completed })
        #expect(!ledger.transfers.isEmpty)
    }
}

/// A small deterministic random number generator (SplitMix64), so random tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Ledger rules and audit")
struct LedgerRulesTests {
    let eur = Currency("EUR")!

    func account(_ id: String, _ kind: LedgerAccountKind) -> LedgerAccount {
        LedgerAccount(id: LedgerAccountID(id), owner: kind.belongsToPlatform ? .platform : .user(UserID("usr_\(id)")), kind: kind, currency: eur)
    }

    func transfer(_ id: String, _ debit: LedgerAccount, _ credit: LedgerAccount, _ amount: Int64, _ mode: TransferMode = .posted) -> Transfer {
        Transfer(id: TransferID(id), debitAccountID: debit.id, creditAccountID: credit.id, amountMinor: amount, currency: eur, mode: mode,
                 purpose: .cardPayment, reference: id, orderID: nil, createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test func userBalancesNeverGoNegativeAndPendingDebitsCount() throws {
        var external = account("ext", .external)
        var user = account("u", .available)
        var other = account("o", .available)
        try LedgerRules.apply(transfer("t1", external, user, 100), debit: &external, credit: &user, pending: nil)
        let hold = transfer("t2", user, other, 70, .pending)
        try LedgerRules.apply(hold, debit: &user, credit: &other, pending: nil)
        #expect(user.balances.spendable == 30)
        #expect(throws: LedgerError.insufficientFunds(.available, needed: 31, available: 30)) {
            try LedgerRules.apply(transfer("t3", user, other, 31), debit: &user, credit: &other, pending: nil)
        }
        #expect(throws: LedgerError.postExceedsPending(hold.id)) {
            try LedgerRules.apply(transfer("t4", user, other, 71, .postPending(hold.id)), debit: &user, credit: &other, pending: hold)
        }
        try LedgerRules.apply(transfer("t5", user, other, 50, .postPending(hold.id)), debit: &user, credit: &other, pending: hold)
        // Posting less than the hold releases the rest.
        #expect(user.balances.spendable == 50)
        #expect(other.balances.spendable == 50)
        #expect(user.balances.debitsPending == 0)
    }

    @Test func theAuditFindsTamperingAndDoubleResolution() {
        let external = account("ext", .external)
        var user = account("u", .available)
        user.balances = LedgerBalances(creditsPosted: 100)
        var stored = [external, user]
        stored[0].balances = LedgerBalances(debitsPosted: 100)
        var audit = LedgerAudit()
        audit.add(transfer("t1", external, user, 100))
        #expect(audit.finish(accounts: stored, heldOrders: [:]).isClean)

        // A stored balance that its transfers do not explain.
        var tampered = LedgerAudit()
        tampered.add(transfer("t1", external, user, 100))
        stored[1].balances.creditsPosted = 1_000
        #expect(tampered.finish(accounts: stored, heldOrders: [:]).problems.contains { $0.contains("stores") })

        // A hold resolved twice, and an order whose escrow is missing.
        let other = account("o", .available)
        var twice = LedgerAudit()
        let hold = transfer("h", user, other, 10, .pending)
        twice.add(hold)
        twice.add(transfer("p1", user, other, 10, .postPending(hold.id)))
        twice.add(transfer("p2", user, other, 10, .voidPending(hold.id)))
        let report = twice.finish(accounts: [user, other], heldOrders: [OrderID("ord_x"): (eur, 5)])
        #expect(report.problems.contains { $0.contains("resolved more than once") })
        #expect(report.problems.contains { $0.contains("ord_x") })
    }
}
