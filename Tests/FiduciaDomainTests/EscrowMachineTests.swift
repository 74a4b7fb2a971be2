import FiduciaDomain
import Foundation
import Testing

@Suite("Escrow state machine")
struct EscrowMachineTests {
    let buyer = UserID("usr_buyer")
    let seller = UserID("usr_seller")
    let staff = UserID("usr_staff")
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let settings = EscrowSettings()

    func order(_ id: String = "ord_1", total: Int64 = 10_000, returnWindowDays: Int = 7) -> Order {
        Order(
            id: OrderID(id), buyerID: buyer, sellerID: seller, currency: Currency("EUR")!,
            items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: total)], totalMinor: total,
            policy: AfterSalesPolicy(returnWindowDays: returnWindowDays, genuineGoodsGuarantee: true),
            feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: start, payBy: start.addingTimeInterval(86_400)
        )
    }

    func positions(_ ledger: InMemoryLedger, statementOpen: Bool = true) -> EscrowPositions {
        EscrowPositions(
            seller: ledger.position(of: seller),
            buyerStatementOwedMinor: ledger.balance(.user(buyer, .statement)).postedDebitBalance,
            paymentStatementOpen: statementOpen
        )
    }

    /// Applies an action and its money to `ledger`; returns the transition.
    @discardableResult
    func step(_ action: OrderAction, _ order: inout Order, by actor: EscrowActor, at offset: TimeInterval = 60, ledger: inout InMemoryLedger,
              statementOpen: Bool = true) throws -> EscrowTransition {
        let transition = try EscrowMachine.apply(action, to: order, by: actor, at: start.addingTimeInterval(offset), settings: settings,
                                                 positions: positions(ledger, statementOpen: statementOpen))
        try ledger.execute(transition.money, order: order.id)
        order = transition.order
        return transition
    }

    static let card = PaymentMethod.card(token: "tok_visa", chargeID: "ch_1")

    @Test func feeSplitIsHandComputedAndExact() {
        let split = FeeSplit(totalMinor: 10_000, feeBasisPoints: 200, fundShareBasisPoints: 2_000)
        #expect(split.sellerNetMinor == 9_800)
        #expect(split.platformFeeMinor == 160)
        #expect(split.fundContributionMinor == 40)
        // 2% of 25 is 0.5: rounded half up to 1; a fifth of 1 rounds down to 0.
        let small = FeeSplit(totalMinor: 25, feeBasisPoints: 200, fundShareBasisPoints: 2_000)
        #expect((small.sellerNetMinor, small.platformFeeMinor, small.fundContributionMinor) == (24, 1, 0))
        // 2% of 9 999 is 199.98, rounded to 200; the fund's fifth of it is 40.
        let partial = FeeSplit(totalMinor: 9_999, feeBasisPoints: 200, fundShareBasisPoints: 2_000)
        #expect((partial.sellerNetMinor, partial.platformFeeMinor, partial.fundContributionMinor) == (9_799, 160, 40))
    }

    @Test func aFullTradeHoldsThenReleasesTheMoney() throws {
        var ledger = InMemoryLedger()
        var current = order()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        #expect(current.status == .paid)
        #expect(current.paymentReference == "ch_1")
        #expect(ledger.balance(.user(buyer, .available)).debitsPending == 10_000)
        #expect(ledger.balance(.user(seller, .available)).creditsPending == 9_800)
        #expect(ledger.spendable(seller) == 0)

        try step(.ship(carrier: "SF Express", trackingNumber: "SF123"), &current, by: .seller(seller), ledger: &ledger)
        #expect(current.confirmBy == start.addingTimeInterval(60 + settings.autoCompleteSeconds))
        try step(.confirmReceipt, &current, by: .buyer(buyer), at: 3_600, ledger: &ledger)
        #expect(current.status == .completed)
        #expect(ledger.spendable(seller) == 9_800)
        #expect(ledger.balance(.platform(.fees)).creditsPosted == 160)
        #expect(ledger.balance(.platform(.guaranteeFund)).creditsPosted == 40)
        #expect(ledger.spendable(buyer) == 0)
        #expect(ledger.audit(orders: [current]).isClean)
        #expect(current.timeline.map(\.kind) == [.paid, .shipped, .receiptConfirmed])
    }

    @Test func illegalMovesAreNamedAndChangeNothing() throws {
        let created = order()
        #expect(throws: EscrowError.illegalTransition(.ship, status: .created)) {
            try EscrowMachine.apply(.ship(carrier: "X", trackingNumber: "1"), to: created, by: .seller(seller), at: start, settings: settings)
        }
        #expect(throws: EscrowError.notAllowed(.pay)) {
            try EscrowMachine.apply(.pay(.balance), to: created, by: .seller(seller), at: start, settings: settings)
        }
        #expect(throws: EscrowError.notAllowed(.pay)) {
            try EscrowMachine.apply(.pay(.balance), to: created, by: .buyer(UserID("usr_stranger")), at: start, settings: settings)
        }
        #expect(EscrowError.notAllowed(.pay).detail == "Only the buyer can pay for this order.")
        #expect(throws: EscrowError.paymentWindowClosed) {
            try EscrowMachine.apply(.pay(.balance), to: created, by: .buyer(buyer), at: start.addingTimeInterval(86_400), settings: settings)
        }
        #expect(throws: EscrowError.notAllowed(.expire)) {
            try EscrowMachine.apply(.expire, to: created, by: .buyer(buyer), at: start.addingTimeInterval(90_000), settings: settings)
        }
        #expect(throws: EscrowError.paymentWindowOpen) {
            try EscrowMachine.apply(.expire, to: created, by: .system, at: start, settings: settings)
        }
        var ledger = InMemoryLedger()
        var paid = created
        try step(.pay(Self.card), &paid, by: .buyer(buyer), ledger: &ledger)
        #expect(throws: EscrowError.illegalTransition(.pay, status: .paid)) {
            try EscrowMachine.apply(.pay(Self.card), to: paid, by: .buyer(buyer), at: start, settings: settings)
        }
        // Bad input is a validation error with the field named, never an illegal transition.
        let noCarrier = #expect(throws: ValidationError.self) {
            try EscrowMachine.apply(.ship(carrier: " ", trackingNumber: String(repeating: "1", count: 81)), to: paid, by: .seller(seller), at: start, settings: settings)
        }
        #expect(noCarrier?.fieldErrors.map(\.field) == ["carrier", "trackingNumber"])
        paid.escrowFrozen = true
        var shipped = paid
        try step(.ship(carrier: "X", trackingNumber: "1"), &shipped, by: .seller(seller), ledger: &ledger)
        #expect(throws: EscrowError.escrowFrozen) {
            try EscrowMachine.apply(.confirmReceipt, to: shipped, by: .buyer(buyer), at: start, settings: settings)
        }
        let badDays = #expect(throws: ValidationError.self) {
            try EscrowMachine.apply(.extendConfirmation(days: 11), to: shipped, by: .seller(seller), at: start, settings: settings)
        }
        #expect(badDays?.fieldErrors.map(\.field) == ["days"])
        let longTracking = #expect(throws: ValidationError.self) {
            try EscrowMachine.apply(.addTracking(TrackingEvent(at: start, location: String(repeating: "x", count: 121), description: "ok")),
                                    to: shipped, by: .seller(seller), at: start, settings: settings)
        }
        #expect(longTracking?.fieldErrors.map(\.field) == ["location"])
    }

    @Test func allowedActionsAreTheOneRuleForEveryActor() throws {
        var current = order()
        func allowed(_ actor: EscrowActor, at offset: TimeInterval = 60) -> [OrderActionKind] {
            EscrowMachine.allowedActions(order: current, actor: actor, now: start.addingTimeInterval(offset))
        }
        #expect(allowed(.buyer(buyer)) == [.pay, .cancel])
        #expect(allowed(.seller(seller)) == [.cancel])
        #expect(allowed(.staff(staff)) == [.cancel])
        #expect(allowed(.system) == [])
        #expect(allowed(.system, at: 86_400) == [.expire])
        #expect(allowed(.buyer(UserID("usr_stranger"))) == [])

        var ledger = InMemoryLedger()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        #expect(allowed(.buyer(buyer)) == [.cancel, .openDispute])
        #expect(allowed(.seller(seller)) == [.ship, .cancel, .refund])
        #expect(allowed(.staff(staff)) == [.cancel, .refund])

        try step(.ship(carrier: "X", trackingNumber: "1"), &current, by: .seller(seller), at: 0, ledger: &ledger)
        #expect(allowed(.buyer(buyer)) == [.confirmReceipt, .requestRefund, .openDispute])
        #expect(allowed(.seller(seller)) == [.addTracking, .extendConfirmation, .refund])
        #expect(allowed(.staff(staff)) == [.addTracking, .refund])
        #expect(allowed(.system) == [])
        #expect(allowed(.system, at: settings.autoCompleteSeconds) == [.autoComplete])

        try step(.confirmReceipt, &current, by: .buyer(buyer), at: 0, ledger: &ledger)
        #expect(allowed(.buyer(buyer)) == [.requestRefund, .openDispute])
        #expect(allowed(.seller(seller)) == [.addTracking, .refund])
        let afterWindow = 7 * 86_400 + 1.0
        // Past the return window only the genuine-goods guarantee (90 days) still lets the buyer
        // open a dispute; after it, nothing.
        #expect(allowed(.buyer(buyer), at: afterWindow) == [.openDispute])
        #expect(allowed(.buyer(buyer), at: 91 * 86_400) == [])
        #expect(allowed(.seller(seller), at: afterWindow) == [.addTracking])
    }

    @Test func autoCompletionWaitsForTheDeadlineAndARefundRequestPausesIt() throws {
        var ledger = InMemoryLedger()
        // A buyer paying from an empty balance is refused by the ledger, not the machine.
        #expect(throws: LedgerError.self) {
            try ledger.execute(EscrowMachine.apply(.pay(.balance), to: order(), by: .buyer(buyer), at: start, settings: settings).money, order: nil)
        }
        var current = order()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        try step(.ship(carrier: "X", trackingNumber: "1"), &current, by: .seller(seller), at: 0, ledger: &ledger)
        #expect(throws: EscrowError.confirmationNotDue) {
            try EscrowMachine.apply(.autoComplete, to: current, by: .system, at: start.addingTimeInterval(settings.autoCompleteSeconds - 1), settings: settings)
        }
        try step(.extendConfirmation(days: 3), &current, by: .seller(seller), at: 10, ledger: &ledger)
        #expect(throws: EscrowError.extensionAlreadyUsed) {
            try EscrowMachine.apply(.extendConfirmation(days: 1), to: current, by: .seller(seller), at: start, settings: settings)
        }
        let due = settings.autoCompleteSeconds + 3 * 86_400
        #expect(current.confirmBy == start.addingTimeInterval(due))

        // The buyer asks for 2 000 back one day after shipping: completion pauses.
        var asked = current
        try step(.requestRefund(amountMinor: 2_000, reason: "one cup broken"), &asked, by: .buyer(buyer), at: 86_400, ledger: &ledger)
        #expect(throws: EscrowError.refundRequested) {
            try EscrowMachine.apply(.autoComplete, to: asked, by: .system, at: start.addingTimeInterval(due), settings: settings)
        }
        // The seller answers five days later with the 2 000: the period resumes, five days later.
        let answered = try step(.refund(amountMinor: nil, reason: nil), &asked, by: .seller(seller), at: 6 * 86_400, ledger: &ledger)
        #expect(asked.refundRequest == nil)
        #expect(asked.refundedMinor == 2_000)
        #expect(asked.confirmBy == start.addingTimeInterval(due + 5 * 86_400))
        #expect(answered.timeouts.contains(.schedule(.autoComplete, dueAt: start.addingTimeInterval(due + 5 * 86_400))))
        try step(.autoComplete, &asked, by: .system, at: due + 5 * 86_400, ledger: &ledger)
        #expect(asked.status == .completed)
        // The seller gets the net of the 8 000 that stayed held: 8 000 − 160.
        #expect(ledger.spendable(seller) == 7_840)
        #expect(ledger.audit(orders: [asked]).isClean)
    }

    /// Attack 1: a partial refund used to release the rest of the escrow to the seller at once.
    @Test func aPartialRefundNeverReleasesTheRestOfTheEscrow() throws {
        var ledger = InMemoryLedger()
        var current = order()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        try step(.ship(carrier: "made up", trackingNumber: "made up"), &current, by: .seller(seller), ledger: &ledger)
        let refund = try step(.refund(amountMinor: 1, reason: nil), &current, by: .seller(seller), ledger: &ledger)
        #expect(current.status == .shipped)
        #expect(current.heldMinor == 9_999)
        #expect(current.refundedMinor == 1)
        #expect(current.escrowSummary.contains("9999") == false)
        // Nothing reached the seller: 9 999 stays held (its net, 9 799, incoming).
        #expect(ledger.spendable(seller) == 0)
        #expect(ledger.balance(.user(seller, .available)).creditsPending == 9_799)
        // The 1 goes back to the card, held on the buyer's balance until the provider confirms.
        #expect(ledger.spendable(buyer) == 0)
        #expect(ledger.openHolds(.cardRefund) == 1)
        #expect(refund.effects == [.refundCard(chargeID: "ch_1", amountMinor: 1, holdReference: "order:ord_1:return1:card")])
        #expect(ledger.audit(orders: [current]).isClean)
        #expect(current.timeline.last?.kind == .partlyRefunded)

        // Only the buyer's confirmation releases the rest.
        try step(.confirmReceipt, &current, by: .buyer(buyer), ledger: &ledger)
        #expect(ledger.spendable(seller) == 9_799)
        #expect(ledger.audit(orders: [current]).isClean)
    }

    @Test func refundingEverythingHeldReturnsItAllToTheCard() throws {
        var ledger = InMemoryLedger()
        var current = order()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        try step(.refund(amountMinor: 3_000, reason: nil), &current, by: .seller(seller), ledger: &ledger)
        let last = try step(.refund(amountMinor: nil, reason: "out of stock"), &current, by: .seller(seller), ledger: &ledger)
        #expect(current.status == .refunded)
        #expect(current.refundedMinor == 10_000)
        #expect(last.effects == [.refundCard(chargeID: "ch_1", amountMinor: 7_000, holdReference: "order:ord_1:return2:card")])
        #expect(ledger.openHolds(.cardRefund) == 10_000)
        #expect(ledger.spendable(buyer) == 0)
        #expect(ledger.balance(.user(seller, .available)) == LedgerBalances())
        #expect(ledger.audit(orders: [current]).isClean)
        #expect(throws: EscrowError.illegalTransition(.refund, status: .refunded)) {
            try EscrowMachine.apply(.refund(amountMinor: 1, reason: nil), to: current, by: .seller(seller), at: start, settings: settings)
        }
    }

    /// Attack 4: cancelling a card payment returns it to the card, never to a withdrawable balance.
    @Test func cancellingACardPaymentRefundsTheCard() throws {
        var ledger = InMemoryLedger()
        var current = order()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        let cancelled = try step(.cancel(reason: "changed my mind"), &current, by: .buyer(buyer), ledger: &ledger)
        #expect(current.status == .cancelled)
        #expect(current.refundedMinor == 10_000)
        #expect(cancelled.effects == [.refundCard(chargeID: "ch_1", amountMinor: 10_000, holdReference: "order:ord_1:return1:card")])
        #expect(ledger.spendable(buyer) == 0)
        #expect(ledger.balance(.user(seller, .available)) == LedgerBalances())
        #expect(ledger.balance(.platform(.fees)).creditsPosted == 0)
        #expect(ledger.audit(orders: [current]).isClean)
        #expect(throws: EscrowError.illegalTransition(.cancel, status: .cancelled)) {
            try EscrowMachine.apply(.cancel(reason: nil), to: current, by: .seller(seller), at: start, settings: settings)
        }
        // A balance payment does go back to the balance: that money truly arrived.
        var byBalance = order("ord_2")
        try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .user(buyer, .available), amountMinor: 10_000, mode: .posted, purpose: .refund, reference: "gift")], order: nil)
        try step(.pay(.balance), &byBalance, by: .buyer(buyer), ledger: &ledger)
        #expect(ledger.spendable(buyer) == 0)
        let back = try step(.cancel(reason: nil), &byBalance, by: .seller(seller), ledger: &ledger)
        #expect(back.effects.isEmpty)
        #expect(ledger.spendable(buyer) == 10_000)
    }

    /// Attack 4: statement credit has a limit, and a cancelled statement purchase comes off the
    /// statement instead of becoming cash.
    @Test func statementPurchasesAreCreditWithALimitAndComeOffTheStatement() throws {
        var ledger = InMemoryLedger()
        let statement = PaymentMethod.statement(StatementID("stm_1"))
        var first = order("ord_1", total: 600)
        let paid = try step(.pay(statement), &first, by: .buyer(buyer), ledger: &ledger)
        #expect(paid.effects == [.addToStatement(StatementID("stm_1"), amountMinor: 600)])
        #expect(first.paymentReference == "stm_1")
        #expect(ledger.balance(.user(buyer, .statement)).postedDebitBalance == 600)
        #expect(throws: EscrowError.statementLimitExceeded(limitMinor: 1_000)) {
            try EscrowMachine.apply(.pay(statement), to: order("ord_big", total: 1_001), by: .buyer(buyer), at: start, settings: settings)
        }
        // 600 owed + 4 500 = 5 100 is past the 5 000 credit limit.
        let nearLimit = EscrowPositions(buyerStatementOwedMinor: 4_500)
        #expect(throws: EscrowError.statementCreditLimitReached(limitMinor: 5_000, owedMinor: 4_500)) {
            try EscrowMachine.apply(.pay(statement), to: order("ord_2", total: 600), by: .buyer(buyer), at: start, settings: settings, positions: nearLimit)
        }

        let cancelled = try step(.cancel(reason: nil), &first, by: .buyer(buyer), ledger: &ledger, statementOpen: true)
        #expect(cancelled.effects == [.reduceStatement(StatementID("stm_1"), amountMinor: 600, removesPurchase: true)])
        #expect(ledger.balance(.user(buyer, .statement)).postedDebitBalance == 0)
        #expect(ledger.spendable(buyer) == 0)
        #expect(ledger.audit(orders: [first]).isClean)

        // When the statement was already paid by card, the money truly arrived: it stays with the buyer.
        var second = order("ord_3", total: 600)
        try step(.pay(statement), &second, by: .buyer(buyer), ledger: &ledger)
        try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .user(buyer, .statement), amountMinor: 600, mode: .posted, purpose: .statementPayment, reference: "stm_1:paid")], order: nil)
        let afterPaid = try step(.cancel(reason: nil), &second, by: .seller(seller), ledger: &ledger, statementOpen: false)
        #expect(afterPaid.effects.isEmpty)
        #expect(ledger.spendable(buyer) == 600)
    }

    /// Attack 3: after completion a seller's refund must be covered by their own money; only a
    /// staff decision lets the guarantee fund pay, and the seller then owes it. The fee on the
    /// refunded part goes back to the buyer from the platform, so the seller pays their net share.
    @Test func theFundPaysOnlyWhatStaffDecideAndIsRepaid() throws {
        var ledger = InMemoryLedger()
        try ledger.execute([
            MoneyMovement(debit: .platform(.external), credit: .platform(.guaranteeFund), amountMinor: 50_000, mode: .posted, purpose: .fundTopUp, reference: "seed"),
            MoneyMovement(debit: .platform(.external), credit: .user(seller, .deposit), amountMinor: 3_000, mode: .posted, purpose: .depositPlaced, reference: "deposit"),
        ], order: nil)
        func fund() -> Int64 { ledger.balance(.platform(.guaranteeFund)).postedCreditBalance }
        var current = order()
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        try step(.ship(carrier: "X", trackingNumber: "1"), &current, by: .seller(seller), ledger: &ledger)
        try step(.confirmReceipt, &current, by: .buyer(buyer), ledger: &ledger)
        #expect(fund() == 50_040)
        // The seller pays out 9 000 of the 9 800 they received, then "refunds" the whole order:
        // their share of it (9 800) is more than their balance and deposit (3 800).
        try ledger.execute([
            MoneyMovement(debit: .user(seller, .available), credit: .platform(.external), amountMinor: 9_000, mode: .posted, purpose: .payout, reference: "payout"),
        ], order: nil)
        #expect(throws: EscrowError.sellerCannotCoverRefund(coverableMinor: 3_800, neededMinor: 9_800)) {
            try EscrowMachine.apply(.refund(amountMinor: nil, reason: nil), to: current, by: .seller(seller), at: start.addingTimeInterval(86_400),
                                    settings: settings, positions: positions(ledger))
        }
        // What the seller can cover, they may refund. 3 800: a 76 fee (61 platform, 15 fund) goes
        // back from the platform; the seller's 3 724 is 800 from the balance and 2 924 from the deposit.
        var partly = current
        try step(.refund(amountMinor: 3_800, reason: nil), &partly, by: .seller(seller), at: 86_400, ledger: &ledger)
        #expect(ledger.position(of: seller) == SellerPosition(availableMinor: 0, depositMinor: 76, debtMinor: 0))
        #expect(fund() == 50_025)
        #expect(ledger.balance(.platform(.fees)).postedCreditBalance == 160 - 61)
        #expect(ledger.openHolds(.cardRefund) == 3_800)

        // A moderator's ruling on another order: the fund pays what the seller cannot, at once.
        var ruled = order("ord_2")
        try step(.pay(Self.card), &ruled, by: .buyer(buyer), ledger: &ledger)
        try step(.ship(carrier: "X", trackingNumber: "2"), &ruled, by: .seller(seller), ledger: &ledger)
        try step(.confirmReceipt, &ruled, by: .buyer(buyer), ledger: &ledger)
        try ledger.execute([
            MoneyMovement(debit: .user(seller, .available), credit: .platform(.external), amountMinor: 9_800, mode: .posted, purpose: .payout, reference: "payout2"),
        ], order: nil)
        #expect(throws: ValidationError.self) {
            try EscrowMachine.apply(.refund(amountMinor: nil, reason: nil), to: ruled, by: .staff(staff), at: start, settings: settings, positions: positions(ledger))
        }
        let ruling = try step(.refund(amountMinor: nil, reason: "counterfeit, proven by photos"), &ruled, by: .staff(staff), at: 86_400, ledger: &ledger)
        // The seller's share is 9 800: 76 from the deposit, 9 724 paid by the fund and owed to it.
        #expect(ledger.position(of: seller) == SellerPosition(availableMinor: 0, depositMinor: 0, debtMinor: 9_724))
        #expect(fund() == 50_065 - 40 - 9_724)
        #expect(ruling.money.filter { $0.purpose == .guaranteePayout }.map(\.amountMinor) == [9_724])
        #expect(ruled.timeline.last?.detail == "Refunded in full to the buyer by a moderator: counterfeit, proven by photos.")
        #expect(ledger.audit(orders: [current, partly, ruled]).isClean)

        // The seller's next sale repays the fund first.
        var next = order("ord_3", total: 20_000)
        try step(.pay(Self.card), &next, by: .buyer(buyer), ledger: &ledger)
        try step(.ship(carrier: "X", trackingNumber: "3"), &next, by: .seller(seller), ledger: &ledger)
        try step(.confirmReceipt, &next, by: .buyer(buyer), ledger: &ledger)
        #expect(ledger.position(of: seller).debtMinor == 0)
        #expect(ledger.spendable(seller) == 19_600 - 9_724)
        #expect(fund() == 40_301 + 80 + 9_724)
        #expect(ledger.audit(orders: [current, partly, ruled, next]).isClean)
    }

    @Test func staffMustGiveAReason() {
        var paid = order()
        paid.status = .paid
        paid.paidAt = start
        let error = #expect(throws: ValidationError.self) {
            try EscrowMachine.apply(.cancel(reason: "  "), to: paid, by: .staff(staff), at: start, settings: settings)
        }
        #expect(error?.fieldErrors.map(\.field) == ["reason"])
    }

    @Test func refundsCloseWithTheReturnWindow() throws {
        var ledger = InMemoryLedger()
        var current = order(returnWindowDays: 7)
        try step(.pay(Self.card), &current, by: .buyer(buyer), ledger: &ledger)
        try step(.ship(carrier: "X", trackingNumber: "1"), &current, by: .seller(seller), ledger: &ledger)
        try step(.confirmReceipt, &current, by: .buyer(buyer), at: 0, ledger: &ledger)
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
        #expect(throws: EscrowError.refundAmountInvalid(maximumMinor: 10_000)) {
            try EscrowMachine.apply(.refund(amountMinor: 0, reason: nil), to: current, by: .seller(seller), at: start, settings: settings)
        }
    }

    /// Attack 2: amounts have limits per currency, and totals are added with checked arithmetic.
    @Test func ordersValidateAgainstTheCurrencysLimits() throws {
        let ok = NewOrder(sellerID: seller, currency: "EUR", items: [LineItem(title: "Tea", quantity: 3, unitPriceMinor: 1_250)])
        #expect(try ok.validated().totalMinor == 3_750)
        // The attack: 50 items × 10 000 × 10^12 (5 × 10^17).
        let huge = NewOrder(sellerID: seller, currency: "EUR", items: Array(repeating: LineItem(title: "Gold", quantity: 10_000, unitPriceMinor: 1_000_000_000_000), count: 50))
        // Within what the API document allows for any currency, past what EUR allows: 422.
        let refused = #expect(throws: RuleNotMet.self) { try huge.validated() }
        let refusedFields = Set(refused?.fieldErrors.map(\.field) ?? [])
        #expect(refusedFields.contains("items[0].unitPriceMinor"))
        // Within the unit price limit (1 000 000 EUR) but past the order limit (10 000 000 EUR).
        let large = NewOrder(sellerID: seller, currency: "EUR", items: [LineItem(title: "Yacht", quantity: 11, unitPriceMinor: 100_000_000)])
        #expect(throws: RuleNotMet([FieldError(field: "items", message: "The order total may be at most 10000000.00 EUR.")])) { try large.validated() }
        let error = #expect(throws: ValidationError.self) {
            try NewOrder(sellerID: seller, currency: "ABC", items: [LineItem(title: " ", quantity: 0, unitPriceMinor: -5)]).validated()
        }
        #expect(Set(error?.fieldErrors.map(\.field) ?? []) == ["currency", "items[0].title", "items[0].quantity", "items[0].unitPriceMinor"])
    }

    @Test func currenciesComeFromTheISOTableWithTheirExponentsAndLimits() {
        #expect(Currency("ABC") == nil)
        #expect(Currency("eur") == nil)
        #expect(Currency("EUR")?.minorUnitDigits == 2)
        #expect(Currency("JPY")?.minorUnitDigits == 0)
        #expect(Currency("KWD")?.minorUnitDigits == 3)
        #expect(Currency("CLF")?.minorUnitDigits == 4)
        #expect(Currency("EUR")?.limits.maximumOrderTotalMinor == 1_000_000_000)
        #expect(Currency("JPY")?.limits.maximumOrderTotalMinor == 10_000_000)
        // A dong is worth very little: its limits are a thousand times higher in major units.
        #expect(Currency("VND")?.limits.maximumOrderTotalMinor == 10_000_000_000)
        #expect(Currency.all.count > 150)
        #expect(Money.format(123_456, Currency("KWD")!) == "123.456 KWD")
        #expect(Money.parseMinor("12.5", currency: Currency("EUR")!) == 1_250)
        #expect(Money.parseMinor("999999999999999", currency: Currency("CLF")!) == nil)
    }

    /// Random walks through the state machine with several orders between the same people, played
    /// by the buyer, the seller, staff and timeouts, with refunds of every size, cancellations,
    /// statement purchases, card refunds settling or refused, payouts and statements paid. After
    /// every accepted step: the ledger audit is clean (balanced, no balance negative, escrow equal
    /// to what the orders hold), escrow money reached the seller only by the buyer's confirmation
    /// or the end of the confirmation period, the fund paid only on staff decisions, and no card or
    /// open-statement payment ever became spendable money for the buyer.
    @Test(arguments: 1...20)
    func randomWalksKeepEveryMoneyInvariant(seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        var ledger = InMemoryLedger()
        try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .platform(.guaranteeFund), amountMinor: 1_000_000, mode: .posted, purpose: .fundTopUp, reference: "seed")], order: nil)
        var created = 0
        func freshOrder(at time: TimeInterval) -> Order {
            created += 1
            let total = Int64.random(in: 1...900, using: &random) * (Bool.random(using: &random) ? 1 : 50)
            return Order(
                id: OrderID("ord_\(created)"), buyerID: buyer, sellerID: seller, currency: Currency("EUR")!,
                items: [LineItem(title: "Item", quantity: 1, unitPriceMinor: total)], totalMinor: total, policy: .standard,
                feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: start.addingTimeInterval(time),
                payBy: start.addingTimeInterval(time + 86_400)
            )
        }
        var orders = (0..<4).map { _ in freshOrder(at: 0) }
        var finished: [Order] = []
        var statementPaid: Set<OrderID> = []
        var now: TimeInterval = 0
        var accepted = 0
        var kinds: Set<OrderActionKind> = []
        for round in 0..<300 {
            now += Double.random(in: 0...(12 * 3_600), using: &random)
            // Outside events between order actions: card refunds settle, the seller pays out, statements are paid.
            switch Int.random(in: 0..<10, using: &random) {
            case 0:
                if let hold = ledger.book.holds.values.first(where: { $0.purpose == .cardRefund && !ledger.book.resolved.contains($0.id) }) {
                    let movement = MoneyMovement(debit: .user(buyer, .available), credit: .platform(.external), amountMinor: hold.amountMinor, mode: .pending, purpose: .cardRefund, reference: hold.reference)
                    try ledger.execute([Bool.random(using: &random) ? .post(movement) : .void(movement)], order: hold.orderID)
                }
            case 1:
                let amount = ledger.spendable(seller) / 2
                if amount > 0 {
                    try ledger.execute([MoneyMovement(debit: .user(seller, .available), credit: .platform(.external), amountMinor: amount, mode: .posted, purpose: .payout, reference: "payout:\(round)")], order: nil)
                }
            case 2:
                let owed = ledger.balance(.user(buyer, .statement)).postedDebitBalance
                if owed > 0 {
                    try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .user(buyer, .statement), amountMinor: owed, mode: .posted, purpose: .statementPayment, reference: "statement:\(round)")], order: nil)
                    for order in orders + finished where order.paymentKind == .statement { statementPaid.insert(order.id) }
                }
            default: break
            }
            let index = Int.random(in: 0..<orders.count, using: &random)
            if orders[index].status.isFinal {
                finished.append(orders[index])
                orders[index] = freshOrder(at: now)
            }
            let current = orders[index]
            let refundable = max(1, current.refundableMinor)
            let actions: [(OrderAction, EscrowActor)] = [
                (.pay(.card(token: "tok_visa", chargeID: "ch_\(current.id)")), .buyer(buyer)), (.pay(.balance), .buyer(buyer)),
                (.pay(.statement(StatementID("stm_1"))), .buyer(buyer)),
                (.ship(carrier: "X", trackingNumber: "1"), .seller(seller)), (.confirmReceipt, .buyer(buyer)), (.autoComplete, .system),
                (.cancel(reason: nil), .buyer(buyer)), (.cancel(reason: nil), .seller(seller)), (.cancel(reason: "fraud"), .staff(staff)),
                (.expire, .system), (.extendConfirmation(days: 2), .seller(seller)),
                (.requestRefund(amountMinor: nil, reason: "r"), .buyer(buyer)),
                (.refund(amountMinor: Int64.random(in: 1...refundable, using: &random), reason: nil), .seller(seller)),
                (.refund(amountMinor: nil, reason: nil), .seller(seller)),
                (.refund(amountMinor: Int64.random(in: 1...refundable, using: &random), reason: "ruling"), .staff(staff)),
                (.confirmReceipt, .seller(seller)), (.refund(amountMinor: 1, reason: nil), .buyer(buyer)),
            ]
            // Half the time the natural next step, so walks reach completion and refunds too.
            let natural: (OrderAction, EscrowActor)? =
                switch current.status {
                case .created: (.pay(.card(token: "tok_visa", chargeID: "ch_\(current.id)")), .buyer(buyer))
                case .paid: (.ship(carrier: "X", trackingNumber: "1"), .seller(seller))
                case .shipped: (.confirmReceipt, .buyer(buyer))
                default: nil
                }
            let (action, actor) = Bool.random(using: &random) ? (natural ?? actions.randomElement(using: &random)!) : actions.randomElement(using: &random)!
            let buyerSpendable = ledger.spendable(buyer)
            let transition: EscrowTransition
            let made: [Transfer]
            do {
                transition = try EscrowMachine.apply(action, to: current, by: actor, at: start.addingTimeInterval(now), settings: settings,
                                                     positions: positions(ledger, statementOpen: !statementPaid.contains(current.id)))
                made = try ledger.execute(transition.money, order: current.id)
            } catch is EscrowError {
                continue
            } catch is ValidationError {
                continue
            } catch is LedgerError {
                continue
            }
            orders[index] = transition.order
            accepted += 1
            kinds.insert(action.kind)
            let report = ledger.audit(orders: orders + finished)
            #expect(report.isClean, "seed \(seed) after \(action): \(report.findings)")
            // Escrow reaches the seller only when the buyer confirms or the period ends.
            let releases = made.filter { transfer in
                guard case .postPending(let hold) = transfer.mode else { return false }
                return ledger.book.holds.values.first { $0.id == hold }?.purpose == .escrowHold
            }
            if !releases.isEmpty {
                #expect(action == .confirmReceipt || action == .autoComplete, "seed \(seed): \(action) released escrow")
            }
            // The guarantee fund pays buyers only on a staff decision.
            if made.contains(where: { $0.purpose == .guaranteePayout }) {
                #expect(actor == .staff(staff), "seed \(seed): \(action) by \(actor) drew on the fund")
            }
            // Money paid by card or on an unpaid statement never becomes spendable for the buyer.
            if current.paymentKind == .card || (current.paymentKind == .statement && !statementPaid.contains(current.id)) {
                #expect(ledger.spendable(buyer) <= buyerSpendable, "seed \(seed): \(action) made card or statement money spendable")
            }
            if !report.isClean { return }
        }
        // The walk must actually move money, not just bounce off illegal moves.
        #expect(accepted >= 80, "seed \(seed) accepted only \(accepted) steps")
        #expect(kinds.isSuperset(of: [.pay, .ship, .confirmReceipt, .refund, .cancel]), "seed \(seed) covered only \(kinds)")
    }
}

@Suite("Ledger rules, planning and audit")
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

    /// Attack 2: running totals used `+=` and trapped the process for good; now they refuse.
    @Test func totalsAreAddedWithCheckedArithmeticAndBalancesHaveALimit() throws {
        var external = account("ext", .external)
        var fees = account("fees", .fees)
        external.balances.debitsPosted = Int64.max - 10
        #expect(throws: LedgerError.totalsOverflow(.external)) {
            try LedgerRules.apply(transfer("t1", external, fees, 11), debit: &external, credit: &fees, pending: nil)
        }
        #expect(external.balances.debitsPosted == Int64.max - 10)
        var user = account("u", .available)
        let limit = eur.limits.maximumBalanceMinor
        user.balances.creditsPosted = limit
        external.balances = .init()
        #expect(throws: LedgerError.balanceLimitExceeded(.available, limitMinor: limit)) {
            try LedgerRules.apply(transfer("t2", external, user, 1), debit: &external, credit: &user, pending: nil)
        }
        // Taking money out of an account at the limit is always possible.
        try LedgerRules.apply(transfer("t3", user, external, 1), debit: &user, credit: &external, pending: nil)
        #expect(user.balances.spendable == limit - 1)
    }

    @Test func thePlannerResolvesHoldsOnceAndChangesNothingOnFailure() throws {
        var ledger = InMemoryLedger()
        let buyer = UserID("usr_b")
        let seller = UserID("usr_s")
        try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .user(buyer, .available), amountMinor: 500, mode: .posted, purpose: .cardPayment, reference: "in")], order: nil)
        let hold = MoneyMovement(debit: .user(buyer, .available), credit: .user(seller, .available), amountMinor: 300, mode: .pending, purpose: .escrowHold, reference: "h")
        try ledger.execute([hold], order: nil)
        let before = ledger.book
        // The second movement fails (the hold is posted twice): the first is not kept either.
        #expect(throws: LedgerError.pendingTransferAlreadyResolved(ledger.book.holds["h"]!.id)) {
            try ledger.execute([.post(hold), MoneyMovement(debit: .user(buyer, .available), credit: .user(seller, .available), amountMinor: 0, mode: .voidPending(reference: "h"), purpose: .escrowHold, reference: "h:void2")], order: nil)
        }
        #expect(ledger.book.accounts == before.accounts)
        #expect(throws: LedgerError.pendingTransferNotFound("nope")) {
            try ledger.execute([MoneyMovement(debit: .user(buyer, .available), credit: .user(seller, .available), amountMinor: 0, mode: .postPending(reference: "nope"), purpose: .escrowHold, reference: "x")], order: nil)
        }
        #expect(throws: LedgerError.duplicateReference("in")) {
            try ledger.execute([MoneyMovement(debit: .platform(.external), credit: .user(buyer, .available), amountMinor: 1, mode: .posted, purpose: .cardPayment, reference: "in")], order: nil)
        }
        try ledger.execute([.post(hold)], order: nil)
        #expect(ledger.spendable(seller) == 300)
        #expect(ledger.spendable(buyer) == 200)
        #expect(LedgerPlanner.accounts(of: [hold]) == [.user(buyer, .available), .user(seller, .available)])
    }

    @Test func theAuditNamesTamperingAndDoubleResolution() {
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
        #expect(tampered.finish(accounts: stored, heldOrders: [:]).findings.map(\.code) == [.totalsMismatch])

        // A hold resolved twice, and an order whose escrow is missing.
        let other = account("o", .available)
        var twice = LedgerAudit()
        let hold = transfer("h", user, other, 10, .pending)
        twice.add(hold)
        twice.add(transfer("p1", user, other, 10, .postPending(hold.id)))
        twice.add(transfer("p2", user, other, 10, .voidPending(hold.id)))
        let report = twice.finish(accounts: [user, other], heldOrders: [OrderID("ord_x"): (eur, 5)])
        let codes = Set(report.findings.map(\.code))
        #expect(codes.isSuperset(of: [.holdResolvedTwice, .escrowMismatch]))
        #expect(report.findings.first { $0.code == .escrowMismatch }?.message == "order ord_x should hold 5 EUR in escrow but its open holds are 0")

        // Tampered totals near Int64.max are reported, not trapped on.
        var huge = LedgerAudit()
        huge.add(transfer("a", external, user, Int64.max))
        huge.add(transfer("b", external, user, Int64.max))
        #expect(huge.finish(accounts: [external, user], heldOrders: [:]).findings.contains { $0.code == .overflow })
    }

    @Test func aStatementShowsRunningBalancesPerAccount() {
        let external = account("ext", .external)
        let user = account("u", .available)
        let other = account("o", .available)
        var statement = account("s", .statement)
        statement = LedgerAccount(id: statement.id, owner: user.owner, kind: .statement, currency: eur)
        let before = [transfer("t0", external, user, 1_000)]
        let during = [
            transfer("t1", user, other, 300),
            transfer("t2", user, other, 200, .pending),
            transfer("t3", statement, user, 600),
        ]
        let entries = LedgerStatement.entries(accounts: [user, statement], before: before, during: during)
        #expect(entries.map(\.amountMinor) == [-300, 0, 600, 600])
        #expect(entries.map(\.balanceAfterMinor) == [700, 700, 600, 1_300])
        #expect(entries.map(\.account) == [.available, .available, .statement, .available])
    }
}
