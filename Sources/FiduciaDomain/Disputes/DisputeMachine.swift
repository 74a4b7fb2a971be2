import Foundation

/// Who acts on a dispute.
public enum DisputeActor: Sendable, Equatable {
    case buyer(UserID)
    case seller(UserID)
    /// A moderator or administrator.
    case staff(UserID)
    /// Fiducia itself: deadlines.
    case system

    public var userID: UserID? {
        switch self {
        case .buyer(let id), .seller(let id), .staff(let id): id
        case .system: nil
        }
    }
}

/// A moderator's ruling (arbitration).
public enum DisputeRuling: Sendable, Equatable {
    /// Refund this much (all or part of what can be refunded); the rest goes to the seller.
    case refund(amountMinor: Int64)
    /// Everything to the seller.
    case release
    /// The buyer ships the goods back; once the seller confirms (or their deadline passes), this much is refunded.
    case returnThenRefund(amountMinor: Int64)
}

/// What can be done to a dispute.
public enum DisputeAction: Sendable, Equatable {
    /// The seller accepts what the buyer asks.
    case accept
    /// The seller offers part.
    case offer(refundMinor: Int64, note: String)
    /// The seller refuses, saying why (and giving evidence separately).
    case refuse(statement: String)
    /// The buyer accepts the seller's offer, or a party accepts a moderator's proposal.
    case acceptOffer
    /// A party asks a moderator to step in.
    case escalate
    /// The buyer gives up the dispute.
    case withdraw
    /// A moderator takes the dispute.
    case take
    /// The moderator asks a party for evidence (48 hours).
    case requestEvidence(from: DisputeParty, note: String)
    /// A party gave evidence (the service records the evidence itself).
    case evidenceGiven
    /// The moderator proposes a settlement both parties can accept.
    case propose(refundMinor: Int64, note: String)
    /// The moderator rules, with a statement of reasons.
    case rule(DisputeRuling, reasons: String)
    /// The buyer ships the goods back after a return-then-refund ruling.
    case shipReturn(carrier: String, trackingNumber: String)
    /// The seller confirms the returned goods arrived.
    case confirmReturn
    /// The running deadline passed.
    case deadlinePassed

    public var name: String {
        switch self {
        case .accept: "accept"
        case .offer: "offer"
        case .refuse: "refuse"
        case .acceptOffer: "acceptOffer"
        case .escalate: "escalate"
        case .withdraw: "withdraw"
        case .take: "take"
        case .requestEvidence: "requestEvidence"
        case .evidenceGiven: "evidenceGiven"
        case .propose: "propose"
        case .rule: "rule"
        case .shipReturn: "shipReturn"
        case .confirmReturn: "confirmReturn"
        case .deadlinePassed: "deadlinePassed"
        }
    }
}

/// A violation a dispute's outcome brings by itself, by rulebook code.
public struct AutomaticViolation: Sendable, Equatable {
    public let user: UserID
    public let code: String

    public init(user: UserID, code: String) {
        self.user = user
        self.code = code
    }
}

/// The outcome of a legal dispute action.
public struct DisputeTransition: Sendable, Equatable {
    public var dispute: Dispute
    /// When the dispute resolved: the order action (`settleDispute`) that carries its outcome out
    /// on the order and the ledger, in the same transaction.
    public var orderAction: OrderAction?
    public var violations: [AutomaticViolation]
}

/// The dispute state machine (D3). Pure, like `EscrowMachine`: a dispute, an action, who acts and
/// when; a new dispute, the money to settle and the violations its outcome brings, or a named error.
///
/// ```
/// awaitingSeller ──accept──────────────────────────────────────────────▶ resolved (agreement)
///    │  │  └──offer / refuse──▶ awaitingBuyer ──acceptOffer──────────────▶ resolved (agreement)
///    │  │                          │   └──deadline──────────────────────▶ resolved (buyer default)
///    │  └──deadline─────────────────┼──────────────────────────────────▶ resolved (seller default)
///    └──escalate──────▶ inMediation ◀┘ escalate
///                        │ take, requestEvidence (deadline: the silent party loses), propose
///                        ├──rule refund / release──────────────────────▶ resolved (ruling)
///                        └──rule return-then-refund──▶ awaitingReturn ──confirmReturn / deadline──▶ resolved
/// ```
public enum DisputeMachine {
    /// Opens a dispute on `order` for its buyer. The order's own rule (`EscrowMachine` action
    /// `openDispute`) decides whether the order may be disputed at all; this adds what depends on
    /// the reason and the remedy.
    public static func open(
        id: DisputeID, order: Order, reason: DisputeReason, remedy: DisputeRemedy, requestedMinor: Int64?, description: String,
        at now: Date, settings: DisputeSettings
    ) throws -> Dispute {
        let description = description.trimmingWhitespace()
        var validator = Validator()
        validator.check(Dispute.descriptionLength.contains(description.codePointCount), field: "description", "Say what went wrong (1 to 2000 characters).")
        try validator.throwIfInvalid()
        // What may be asked for depends on what is left to refund: a rule of the order's state.
        let refundable = order.refundableMinor
        let requested: Int64
        switch remedy {
        case .fullRefund, .returnAndRefund:
            requested = requestedMinor ?? refundable
            validator.check(requested == refundable, field: "amountMinor", "A full refund is everything that can be refunded: \(refundable) minor units.")
        case .partialRefund:
            requested = requestedMinor ?? 0
            validator.check((1..<max(2, refundable)).contains(requested) && requested < refundable, field: "amountMinor",
                            "A partial refund is between 1 and \(refundable - 1) minor units.")
        }
        try validator.throwIfRuleNotMet()
        if order.status == .completed {
            // After completion: the return window, or for a counterfeit under the genuine-goods
            // guarantee, its longer claim window.
            let withinReturns = order.returnDeadline.map { now <= $0 } ?? false
            let genuineClaimEnds = order.completedAt?.addingTimeInterval(Double(AfterSalesPolicy.genuineGoodsClaimDays) * 86_400)
            let withinGenuine = reason == .counterfeit && order.policy.genuineGoodsGuarantee && genuineClaimEnds.map { now <= $0 } == true
            guard withinReturns || withinGenuine else { throw EscrowError.refundWindowClosed }
        }
        return Dispute(
            id: id, orderID: order.id, buyerID: order.buyerID, sellerID: order.sellerID, currency: order.currency, reason: reason, remedy: remedy,
            requestedMinor: requested, refundableMinor: refundable, description: description, openedInEscrow: order.status.holdsEscrow, openedAt: now,
            status: .awaitingSeller, deadline: DisputeDeadline(kind: .sellerResponse, party: .seller, dueAt: now.addingTimeInterval(settings.sellerResponseSeconds)),
            timeline: [DisputeEvent(at: now, actor: order.buyerID, detail: "The buyer opened a dispute: \(reason.words); they ask for \(describe(remedy, requested, order.currency)).")]
        )
    }

    static func describe(_ remedy: DisputeRemedy, _ amount: Int64, _ currency: Currency) -> String {
        switch remedy {
        case .fullRefund: "a full refund (\(Money.format(amount, currency)))"
        case .partialRefund: "a partial refund of \(Money.format(amount, currency))"
        case .returnAndRefund: "to return the goods for a refund of \(Money.format(amount, currency))"
        }
    }

    /// The actions `actor` may take on `dispute` at `now` (the buttons a page shows).
    public static func allowedActions(_ dispute: Dispute, actor: DisputeActor, now: Date) -> [String] {
        let probes: [DisputeAction] = [
            .accept, .offer(refundMinor: 1, note: ""), .refuse(statement: "x"), .acceptOffer, .escalate, .withdraw, .take,
            .requestEvidence(from: .buyer, note: ""), .propose(refundMinor: 0, note: ""), .rule(.release, reasons: "x"),
            .shipReturn(carrier: "x", trackingNumber: "x"), .confirmReturn,
        ]
        return probes.filter { (try? check($0, dispute, actor: actor, now: now)) != nil }.map(\.name)
    }

    /// Whether `actor` may take `action` now; throws the precise reason when not.
    public static func check(_ action: DisputeAction, _ dispute: Dispute, actor: DisputeActor, now: Date) throws(DisputeError) {
        let isBuyer = actor == .buyer(dispute.buyerID)
        let isSeller = actor == .seller(dispute.sellerID)
        let isStaff = if case .staff = actor { true } else { false }
        let isModerator = isStaff && actor.userID == dispute.moderatorID
        func require(_ statuses: DisputeStatus...) throws(DisputeError) {
            guard statuses.contains(dispute.status) else { throw .notNow(action.name, dispute.status) }
        }
        func who(_ allowed: Bool) throws(DisputeError) {
            guard allowed else { throw .notYourPart(action.name) }
        }
        switch action {
        case .accept, .offer, .refuse:
            try who(isSeller)
            try require(.awaitingSeller)
        case .acceptOffer:
            try who(isBuyer || isSeller)
            try require(.awaitingBuyer, .inMediation)
            guard let offer = dispute.offer, offer.refundMinor >= 0 else { throw .noOffer }
            switch offer.source {
            case .seller: try who(isBuyer)
            case .moderator:
                let party: DisputeParty = isBuyer ? .buyer : .seller
                guard !offer.acceptedBy.contains(party) else { throw .alreadyAccepted }
            }
        case .escalate:
            try who(isBuyer || isSeller)
            try require(.awaitingSeller, .awaitingBuyer)
        case .withdraw:
            try who(isBuyer)
            try require(.awaitingSeller, .awaitingBuyer, .inMediation, .awaitingReturn)
        case .take:
            // Another moderator may take over; the one who has it already has nothing to take.
            try who(isStaff)
            try require(.inMediation)
            guard !isModerator else { throw .notNow(action.name, dispute.status) }
        case .requestEvidence, .propose, .rule:
            try who(isStaff)
            try require(.inMediation)
            guard isModerator else { throw .notAssigned }
        case .evidenceGiven:
            try who(isBuyer || isSeller || isModerator)
            try require(.awaitingSeller, .awaitingBuyer, .inMediation, .awaitingReturn)
        case .shipReturn:
            try who(isBuyer)
            try require(.awaitingReturn)
            guard dispute.returnShipment == nil else { throw .returnAlreadyShipped }
        case .confirmReturn:
            try who(isSeller)
            try require(.awaitingReturn)
            guard dispute.returnShipment != nil else { throw .returnNotShipped }
        case .deadlinePassed:
            try who(actor == .system)
            guard let deadline = dispute.deadline, dispute.status.isOpen else { throw .noDeadline }
            guard now >= deadline.dueAt else { throw .deadlineNotDue }
        }
    }

    public static func apply(_ action: DisputeAction, to dispute: Dispute, by actor: DisputeActor, at now: Date, settings: DisputeSettings) throws -> DisputeTransition {
        try check(action, dispute, actor: actor, now: now)
        var next = dispute
        var transition = DisputeTransition(dispute: dispute, orderAction: nil, violations: [])
        let money = { (amount: Int64) in Money.format(amount, dispute.currency) }
        func event(_ detail: String) {
            next.timeline.append(DisputeEvent(at: now, actor: actor.userID, detail: detail))
        }
        func resolve(_ how: DisputeResolution.How, refund: Int64, reasons: String, decidedBy: UserID? = nil) {
            next.status = .resolved
            next.deadline = nil
            next.offer = nil
            next.resolution = DisputeResolution(how: how, refundMinor: refund, reasons: reasons, decidedBy: decidedBy, decidedAt: now)
            // A refund or a ruling settles the order; an outcome with neither lets it go on.
            transition.orderAction = .settleDispute(
                refundMinor: refund, release: refund > 0 || how == .ruling, reason: how.words,
                // An agreement is the seller's own refund: the fund never pays for it.
                fundCovers: how == .ruling || how == .sellerDefault
            )
            if next.resolution!.sellerLost {
                transition.violations.append(AutomaticViolation(
                    user: dispute.sellerID, code: dispute.reason == .counterfeit && how == .ruling ? "counterfeit" : "dispute-lost"
                ))
            }
        }
        func amount(_ value: Int64, allowZero: Bool, field: String) throws -> Int64 {
            let lowest: Int64 = allowZero ? 0 : 1
            guard value >= lowest else { throw ValidationError(field: field, "The amount must be at least \(lowest) minor units.") }
            // What is left to refund is the order's state, not the request's shape.
            guard value <= dispute.refundableMinor else {
                throw RuleNotMet(field: field, "The amount must be \(lowest) to \(dispute.refundableMinor) minor units.")
            }
            return value
        }
        func text(_ value: String, field: String, required: Bool) throws(ValidationError) -> String {
            // The limit is on the text as sent (as the API document counts it), the minimum on what it says.
            let trimmed = value.trimmingWhitespace()
            guard value.codePointCount <= 2_000, !(required && trimmed.isEmpty) else {
                throw ValidationError(field: field, required ? "Say why (1 to 2000 characters)." : "At most 2000 characters.")
            }
            return trimmed
        }

        switch action {
        case .accept:
            event("The seller accepted: \(describe(dispute.remedy, dispute.requestedMinor, dispute.currency)).")
            if dispute.remedy == .returnAndRefund {
                next.status = .awaitingReturn
                next.returnRefundMinor = dispute.requestedMinor
                next.offer = nil
                next.deadline = DisputeDeadline(kind: .returnShipment, party: .buyer, dueAt: now.addingTimeInterval(settings.returnShipmentSeconds))
            } else {
                resolve(.agreement, refund: dispute.requestedMinor, reasons: "The seller accepted the buyer's request.")
            }

        case .offer(let offered, let note):
            let offered = try amount(offered, allowZero: false, field: "refundMinor")
            let note = try text(note, field: "note", required: false)
            next.offer = DisputeOffer(source: .seller, refundMinor: offered, note: note)
            next.status = .awaitingBuyer
            next.deadline = DisputeDeadline(kind: .buyerResponse, party: .buyer, dueAt: now.addingTimeInterval(settings.buyerResponseSeconds))
            event("The seller offered \(money(offered))\(note.isEmpty ? "" : ": \(note)").")

        case .refuse(let statement):
            let statement = try text(statement, field: "statement", required: true)
            next.offer = nil
            next.status = .awaitingBuyer
            next.deadline = DisputeDeadline(kind: .buyerResponse, party: .buyer, dueAt: now.addingTimeInterval(settings.buyerResponseSeconds))
            event("The seller refused: \(statement)")

        case .acceptOffer:
            var offer = dispute.offer!
            switch offer.source {
            case .seller:
                event("The buyer accepted the seller's offer of \(money(offer.refundMinor)).")
                resolve(.agreement, refund: offer.refundMinor, reasons: "The buyer accepted the seller's offer of \(money(offer.refundMinor)).")
            case .moderator:
                let party: DisputeParty = actor == .buyer(dispute.buyerID) ? .buyer : .seller
                offer.acceptedBy.insert(party)
                next.offer = offer
                event("The \(party.rawValue) accepted the moderator's proposal of \(money(offer.refundMinor)).")
                if offer.acceptedBy == [.buyer, .seller] {
                    resolve(.agreement, refund: offer.refundMinor, reasons: "Both parties accepted the moderator's proposal of \(money(offer.refundMinor)).")
                }
            }

        case .escalate:
            next.status = .inMediation
            next.deadline = nil
            next.mediationDueAt = now.addingTimeInterval(settings.mediationTargetSeconds)
            event("The \(actor == .buyer(dispute.buyerID) ? "buyer" : "seller") asked a moderator to step in.")

        case .withdraw:
            event("The buyer withdrew the dispute.")
            resolve(.withdrawn, refund: 0, reasons: "The buyer withdrew the dispute.")

        case .take:
            next.moderatorID = actor.userID
            event("A moderator took the dispute.")

        case .requestEvidence(let party, let note):
            let note = try text(note, field: "note", required: true)
            next.deadline = DisputeDeadline(kind: .evidence, party: party, dueAt: now.addingTimeInterval(settings.evidenceSeconds))
            event("The moderator asked the \(party.rawValue) for evidence: \(note)")

        case .evidenceGiven:
            guard actor == .buyer(dispute.buyerID) || actor == .seller(dispute.sellerID) else {
                event("The moderator added a note.")
                break
            }
            let party: DisputeParty = actor == .buyer(dispute.buyerID) ? .buyer : .seller
            if let deadline = dispute.deadline, deadline.kind == .evidence, deadline.party == party {
                next.deadline = nil
                event("The \(party.rawValue) gave the evidence the moderator asked for.")
            } else {
                event("The \(party.rawValue) added evidence.")
            }

        case .propose(let proposed, let note):
            let proposed = try amount(proposed, allowZero: true, field: "refundMinor")
            let note = try text(note, field: "note", required: true)
            next.offer = DisputeOffer(source: .moderator, refundMinor: proposed, note: note)
            event("The moderator proposed a settlement: \(money(proposed)) back to the buyer. \(note)")

        case .rule(let ruling, let reasons):
            let reasons = try text(reasons, field: "reasons", required: true)
            switch ruling {
            case .refund(let refunded):
                let refunded = try amount(refunded, allowZero: false, field: "amountMinor")
                event("The moderator ruled a refund of \(money(refunded)): \(reasons)")
                resolve(.ruling, refund: refunded, reasons: reasons, decidedBy: actor.userID)
            case .release:
                event("The moderator ruled for the seller: \(reasons)")
                resolve(.ruling, refund: 0, reasons: reasons, decidedBy: actor.userID)
            case .returnThenRefund(let refunded):
                let refunded = try amount(refunded, allowZero: false, field: "amountMinor")
                next.status = .awaitingReturn
                next.returnRefundMinor = refunded
                next.offer = nil
                next.deadline = DisputeDeadline(kind: .returnShipment, party: .buyer, dueAt: now.addingTimeInterval(settings.returnShipmentSeconds))
                event("The moderator ruled a return, then a refund of \(money(refunded)): \(reasons)")
            }

        case .shipReturn(let carrier, let trackingNumber):
            let carrier = carrier.trimmingWhitespace()
            let trackingNumber = trackingNumber.trimmingWhitespace()
            var validator = Validator()
            validator.check(Shipment.fieldLength.contains(carrier.codePointCount), field: "carrier", "Name the carrier (1 to 80 characters).")
            validator.check(Shipment.fieldLength.contains(trackingNumber.codePointCount), field: "trackingNumber", "Give the tracking number (1 to 80 characters).")
            try validator.throwIfInvalid()
            next.returnShipment = Shipment(carrier: carrier, trackingNumber: trackingNumber)
            next.deadline = DisputeDeadline(kind: .returnConfirmation, party: .seller, dueAt: now.addingTimeInterval(settings.returnConfirmationSeconds))
            event("The buyer shipped the goods back with \(carrier), tracking number \(trackingNumber).")

        case .confirmReturn:
            let refund = dispute.returnRefundMinor ?? dispute.requestedMinor
            event("The seller confirmed the returned goods arrived.")
            let ruled = dispute.moderatorID != nil
            resolve(ruled ? .ruling : .agreement, refund: refund, reasons: "The goods were returned and the seller confirmed it.",
                    decidedBy: ruled ? dispute.moderatorID : nil)

        case .deadlinePassed:
            let deadline = dispute.deadline!
            switch (deadline.kind, deadline.party) {
            case (.sellerResponse, _), (.evidence, .seller):
                event("The seller let the deadline pass.")
                resolve(.sellerDefault, refund: dispute.requestedMinor, reasons: "The seller did not answer in time; a silent seller loses the dispute and the buyer is refunded.")
            case (.buyerResponse, _), (.evidence, .buyer):
                event("The buyer let the deadline pass.")
                resolve(.buyerDefault, refund: 0, reasons: "The buyer did not answer in time; the dispute closes in the seller's favour.")
            case (.returnShipment, _):
                event("The buyer did not ship the goods back in time.")
                resolve(.buyerDefault, refund: 0, reasons: "The goods were not shipped back in time; the money goes to the seller.")
            case (.returnConfirmation, _):
                event("The seller did not confirm the return in time.")
                let ruled = dispute.moderatorID != nil
                resolve(ruled ? .ruling : .sellerDefault, refund: dispute.returnRefundMinor ?? dispute.requestedMinor,
                        reasons: "The goods were shipped back and the seller did not confirm in time; the buyer is refunded.",
                        decidedBy: ruled ? dispute.moderatorID : nil)
            }
        }
        transition.dispute = next
        return transition
    }
}

/// Named failures of disputes.
public enum DisputeError: DomainError, Equatable {
    case notYourPart(String)
    case notNow(String, DisputeStatus)
    case notAssigned
    case noOffer
    case alreadyAccepted
    case returnAlreadyShipped
    case returnNotShipped
    case noDeadline
    case deadlineNotDue
    /// The order already has an open dispute.
    case alreadyOpen(DisputeID)

    public var kind: FailureKind {
        switch self {
        case .notYourPart, .notAssigned: .forbidden
        case .notNow, .noOffer, .alreadyAccepted, .returnAlreadyShipped, .returnNotShipped, .noDeadline, .deadlineNotDue, .alreadyOpen: .conflict
        }
    }

    public var code: String {
        switch self {
        case .notYourPart: "not-your-part"
        case .notNow: "dispute-state-conflict"
        case .notAssigned: "dispute-not-assigned"
        case .noOffer: "no-offer"
        case .alreadyAccepted: "offer-already-accepted"
        case .returnAlreadyShipped, .returnNotShipped: "return-state-conflict"
        case .noDeadline, .deadlineNotDue: "deadline-not-due"
        case .alreadyOpen: "dispute-already-open"
        }
    }

    public var title: String {
        switch self {
        case .notYourPart: "Not your part of the order"
        case .notNow: "Not possible in this dispute state"
        case .notAssigned: "Not the dispute's moderator"
        case .noOffer: "No offer to accept"
        case .alreadyAccepted: "Already accepted"
        case .returnAlreadyShipped, .returnNotShipped: "Return not in that state"
        case .noDeadline, .deadlineNotDue: "Deadline not due"
        case .alreadyOpen: "A dispute is already open"
        }
    }

    public var detail: String {
        switch self {
        case .notYourPart(let action): "This dispute action (\(action)) belongs to another party."
        case .notNow(let action, let status): "A dispute that is \(status.rawValue) cannot take the action \(action)."
        case .notAssigned: "Only the moderator who took this dispute can do this; take it first."
        case .noOffer: "There is no offer on the table."
        case .alreadyAccepted: "You have already accepted this proposal; it waits for the other party."
        case .returnAlreadyShipped: "The goods were already shipped back."
        case .returnNotShipped: "The goods have not been shipped back yet."
        case .noDeadline: "This dispute has no running deadline."
        case .deadlineNotDue: "The dispute's deadline has not passed yet."
        case .alreadyOpen(let id): "This order already has an open dispute, \(id)."
        }
    }
}
