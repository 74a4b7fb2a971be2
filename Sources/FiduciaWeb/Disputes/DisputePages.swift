import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The dispute pages: opening one from the order page, the dispute with its deadline counting
/// down and the actions of whoever looks at it (buyer, seller, moderator), and the moderator's
/// workspace (the order, the messages, the evidence and both parties' records side by side).
struct DisputePages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/orders/{id}/disputes", method: .post) { request in try await openDispute(request) }
        router.page("/disputes") { request in try await listDisputes(request) }
        router.page("/disputes/{id}") { request in try await showDispute(request, id: DisputeID(try request.pathSegment(1))) }
        router.page("/disputes/{id}/{action}", method: .post) { request in try await act(request) }
    }

    // MARK: Opening

    private func openDispute(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let orderID = OrderID(try request.pathSegment(1))
        let form = try await site.multipartForm(from: request)
        do {
            let order = try await services.escrow.order(orderID, by: site.principal)
            guard let reason = DisputeReason(rawValue: form["reason"] ?? "") else { throw ValidationError(field: "reason", "Choose what went wrong.") }
            let remedy = DisputeRemedy(rawValue: form["remedy"] ?? "")
            let amount = try Self.amount(form["amount"], currency: order.currency)
            let dispute = try await services.disputes.open(
                on: orderID, NewDispute(reason: reason, remedy: remedy, amountMinor: amount, description: form["description"] ?? "", files: form.files),
                by: site.principal
            )
            return PageRenderer.redirect(to: "/disputes/\(dispute.id)?notice=dispute-opened")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await EscrowPages(site: site).showOrder(request, id: orderID, error: error.detail, status: error.kind.httpStatus)
        }
    }

    static func amount(_ text: String?, currency: Currency) throws -> Int64? {
        guard let text = text?.trimmingWhitespace(), !text.isEmpty else { return nil }
        guard let value = Money.parseMinor(text, currency: currency) else { throw ValidationError(field: "amount", "Write the amount like 12.50.") }
        return value
    }

    // MARK: Lists

    struct DisputeRow: Sendable {
        let id, orderID, statusLabel, statusClass, reason, requested, opened: String
        let deadlineText: String?
    }

    struct ListView: Sendable {
        let mine: [DisputeRow]
    }

    func rows(_ disputes: [Dispute], now: Date) -> [DisputeRow] {
        disputes.map { dispute in
            DisputeRow(
                id: dispute.id.rawValue, orderID: dispute.orderID.rawValue, statusLabel: Self.statusLabel(dispute.status),
                statusClass: dispute.status == .resolved ? "good" : "warn", reason: dispute.reason.words.capitalizedFirst,
                requested: Money.format(dispute.requestedMinor, dispute.currency), opened: PageFormat.date(dispute.openedAt),
                deadlineText: (dispute.deadline?.dueAt ?? dispute.mediationDueAt).map { PageFormat.remaining(until: $0, now: now) }
            )
        }
    }

    private func listDisputes(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let mine = try await services.disputes.disputes(.mine, by: site.principal)
        return site.renderer.render("disputes", page: ListView(mine: rows(mine, now: services.clock.now())), request: request)
    }

    static func statusLabel(_ status: DisputeStatus) -> String {
        switch status {
        case .awaitingSeller: "Waiting for the seller"
        case .awaitingBuyer: "Waiting for the buyer"
        case .inMediation: "With a moderator"
        case .awaitingReturn: "Goods being returned"
        case .resolved: "Resolved"
        }
    }

    // MARK: One dispute

    struct AttachmentLink: Sendable { let url, name, type: String }
    struct Entry: Sendable { let author, role, at, text: String; let attachments: [AttachmentLink] }
    struct RecordView: Sendable {
        let name, role, profileURL, standing: String
        let opened, lost, byAgreement, completedTrades, points: Int
    }
    struct DeadlineView: Sendable { let dueISO, dueText, remaining, consequence, whose: String }
    struct OfferView: Sendable { let source, amount, note, accepted: String }
    struct ResolutionView: Sendable { let how, refund, reasons, at: String }
    struct Actions: Sendable {
        let respond, acceptOffer, escalate, withdraw, take, requestEvidence, propose, rule, shipReturn, confirmReturn, addEvidence: Bool

        var any: Bool {
            [respond, acceptOffer, escalate, withdraw, take, requestEvidence, propose, rule, shipReturn, confirmReturn, addEvidence].contains(true)
        }
    }

    struct DisputeView: Sendable {
        let id, orderID, statusLabel, statusClass, reason, remedy, requested, refundable, description, opened, buyerName, sellerName: String
        let moderatorName, orderStatus, escrowSummary, total: String?
        let deadline: DeadlineView?
        let mediationDue: String?
        let offer: OfferView?
        let resolution: ResolutionView?
        let returnShipment: String?
        let actions: Actions?
        let refundableDefault: String
        let evidence: [Entry]
        let messages: [Entry]
        let records: [RecordView]
        let timeline: [Entry]
        let isStaff: Bool
        let error: String?
    }

    func showDispute(_ request: Request, id: DisputeID, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let view = try await services.disputes.dispute(id, by: site.principal)
        let dispute = view.dispute
        let now = services.clock.now()
        var names = try await services.accounts.users([dispute.buyerID, dispute.sellerID] + [dispute.moderatorID].compactMap { $0 }
            + view.evidence.map(\.authorID) + view.messages.map(\.authorID))
        names[viewer.id] = viewer
        func name(_ id: UserID?) -> String {
            guard let id else { return "Fiducia" }
            return id == viewer.id ? "You" : names[id]?.displayName ?? id.rawValue
        }
        func links(_ attachments: [Attachment]) -> [AttachmentLink] {
            attachments.map { .init(url: "/attachments/\($0.id)", name: $0.fileName, type: $0.type.label) }
        }
        let allowed = Set(view.allowedActions)
        let isModerator = dispute.moderatorID == viewer.id
        let money = { (minor: Int64) in Money.format(minor, dispute.currency) }
        let actions = Actions(
            respond: allowed.contains("accept"), acceptOffer: allowed.contains("acceptOffer"), escalate: allowed.contains("escalate"),
            withdraw: allowed.contains("withdraw"), take: allowed.contains("take"), requestEvidence: allowed.contains("requestEvidence"),
            propose: allowed.contains("propose"), rule: allowed.contains("rule"), shipReturn: allowed.contains("shipReturn"),
            confirmReturn: allowed.contains("confirmReturn"),
            addEvidence: dispute.status.isOpen && (view.viewerParty != nil || isModerator)
        )
        let page = DisputeView(
            id: dispute.id.rawValue, orderID: dispute.orderID.rawValue, statusLabel: Self.statusLabel(dispute.status),
            statusClass: dispute.status == .resolved ? "good" : "warn", reason: dispute.reason.words.capitalizedFirst,
            remedy: dispute.remedy.words, requested: money(dispute.requestedMinor), refundable: money(dispute.refundableMinor),
            description: dispute.description, opened: PageFormat.dateTime(dispute.openedAt),
            buyerName: name(dispute.buyerID), sellerName: name(dispute.sellerID),
            moderatorName: dispute.moderatorID.map { name($0) },
            orderStatus: PageFormat.statusLabel(view.order.status), escrowSummary: view.order.escrowSummary, total: view.order.money.description,
            deadline: dispute.deadline.map { deadline in
                .init(
                    dueISO: deadline.dueAt.formatted(.iso8601), dueText: PageFormat.dateTime(deadline.dueAt),
                    remaining: PageFormat.remaining(until: deadline.dueAt, now: now), consequence: deadline.consequence,
                    whose: deadline.party == view.viewerParty ? "You have" : deadline.party == .buyer ? "The buyer has" : "The seller has"
                )
            },
            mediationDue: dispute.status == .inMediation ? dispute.mediationDueAt.map { "A moderator aims to decide by \(PageFormat.dateTime($0)) (\(PageFormat.remaining(until: $0, now: now)))." } : nil,
            offer: dispute.offer.map { offer in
                .init(
                    source: offer.source == .seller ? "The seller offers" : "The moderator proposes", amount: money(offer.refundMinor), note: offer.note,
                    accepted: offer.acceptedBy.isEmpty ? "" : "Accepted so far by: " + offer.acceptedBy.map(\.rawValue).sorted().joined(separator: ", ") + "."
                )
            },
            resolution: dispute.resolution.map {
                .init(how: $0.how.words.capitalizedFirst, refund: money($0.refundMinor), reasons: $0.reasons, at: PageFormat.dateTime($0.decidedAt))
            },
            returnShipment: dispute.returnShipment.map { "Shipped back with \($0.carrier), tracking number \($0.trackingNumber)." },
            actions: actions.any ? actions : nil,
            refundableDefault: String(Money.format(dispute.refundableMinor, dispute.currency).dropLast(dispute.currency.code.count + 1)),
            evidence: view.evidence.map {
                .init(author: name($0.authorID), role: $0.role.rawValue, at: PageFormat.dateTime($0.createdAt), text: $0.body, attachments: links($0.attachments))
            },
            messages: view.messages.map {
                .init(author: name($0.authorID), role: $0.role.rawValue, at: PageFormat.dateTime($0.createdAt), text: $0.body, attachments: links($0.attachments))
            },
            records: view.records.map { record in
                .init(
                    name: record.user.displayName, role: record.role == .seller ? "Seller" : "Buyer", profileURL: "/merchants/\(record.user.id)",
                    standing: record.standing.words, opened: record.disputes.opened, lost: record.disputes.lost,
                    byAgreement: record.disputes.byAgreement, completedTrades: record.completedTrades, points: record.standing.points
                )
            },
            timeline: dispute.timeline.map { .init(author: name($0.actor), role: "", at: PageFormat.dateTime($0.at), text: $0.detail, attachments: []) },
            isStaff: viewer.isStaff,
            error: error
        )
        return site.renderer.render("dispute", page: page, request: request, status: status)
    }

    // MARK: Actions

    private func act(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let id = DisputeID(try request.pathSegment(1))
        let action = try request.pathSegment(2)
        let form: MultipartForm
        if action == "evidence" {
            form = try await site.multipartForm(from: request)
        } else {
            let posted = try await site.form(ActionForm.self, from: request)
            form = posted.asFields
        }
        let principal = site.principal
        let disputes = services.disputes
        do {
            let current = try await disputes.dispute(id, by: principal).dispute
            let amount = { try Self.amount(form["amount"], currency: current.currency) }
            let notice: String
            switch action {
            case "respond":
                switch form["decision"] ?? "" {
                case "accept": _ = try await disputes.respond(to: id, .accept, by: principal)
                case "offer":
                    guard let offered = try amount() else { throw ValidationError(field: "amount", "Say how much you offer to refund.") }
                    _ = try await disputes.respond(to: id, .offer(refundMinor: offered, note: form["note"] ?? ""), by: principal)
                case "refuse": _ = try await disputes.respond(to: id, .refuse(statement: form["note"] ?? ""), by: principal)
                default: throw ValidationError(field: "decision", "Choose to accept, offer or refuse.")
                }
                notice = "dispute-answered"
            case "accept-offer": _ = try await disputes.acceptOffer(id, by: principal); notice = "dispute-offer-accepted"
            case "escalate": _ = try await disputes.escalate(id, by: principal); notice = "dispute-escalated"
            case "withdraw": _ = try await disputes.withdraw(id, by: principal); notice = "dispute-withdrawn"
            case "take": _ = try await disputes.take(id, by: principal); notice = "dispute-taken"
            case "request-evidence":
                let party: DisputeParty = form["from"] == "buyer" ? .buyer : .seller
                _ = try await disputes.requestEvidence(id, from: party, note: form["note"] ?? "", by: principal)
                notice = "evidence-requested"
            case "propose":
                _ = try await disputes.propose(id, refundMinor: try amount() ?? 0, note: form["note"] ?? "", by: principal)
                notice = "settlement-proposed"
            case "rule":
                let refund = try amount() ?? current.refundableMinor
                let ruling: DisputeRuling
                switch form["outcome"] ?? "" {
                case "refund": ruling = .refund(amountMinor: refund)
                case "release": ruling = .release
                case "returnThenRefund": ruling = .returnThenRefund(amountMinor: refund)
                default: throw ValidationError(field: "outcome", "Choose the outcome.")
                }
                _ = try await disputes.resolve(id, ruling: ruling, reasons: form["reasons"] ?? "", by: principal)
                notice = "dispute-ruled"
            case "ship-return":
                _ = try await disputes.shipReturn(id, carrier: form["carrier"] ?? "", trackingNumber: form["trackingNumber"] ?? "", by: principal)
                notice = "return-shipped"
            case "confirm-return": _ = try await disputes.confirmReturn(id, by: principal); notice = "return-confirmed"
            case "evidence":
                _ = try await disputes.addEvidence(to: id, text: form["text"] ?? "", files: form.files, by: principal)
                notice = "evidence-added"
            default:
                throw WebError.routeNotFound
            }
            return PageRenderer.redirect(to: "/disputes/\(id)?notice=\(notice)")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await showDispute(request, id: id, error: error.detail, status: error.kind.httpStatus)
        }
    }

    /// The fields of the dispute's small forms (everything but evidence, which carries files).
    struct ActionForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var decision, amount, note, from, outcome, reasons, carrier, trackingNumber: String?

        var asFields: MultipartForm {
            MultipartForm(fields: [
                "decision": decision, "amount": amount, "note": note, "from": from, "outcome": outcome, "reasons": reasons,
                "carrier": carrier, "trackingNumber": trackingNumber,
            ].compactMapValues { $0 })
        }
    }
}

extension DisputeRemedy {
    var words: String {
        switch self {
        case .fullRefund: "a full refund"
        case .partialRefund: "a partial refund"
        case .returnAndRefund: "to return the goods for a refund"
        }
    }
}

extension AttachmentType {
    var label: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .pdf: "PDF"
        }
    }
}

extension String {
    /// The text with its first letter in capitals ("the goods did not arrive" → "The goods…").
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
