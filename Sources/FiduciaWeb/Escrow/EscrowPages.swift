import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The buyer's and seller's order pages: a new order, checkout and the order with its timeline
/// and actions, the list of orders, and the seller dashboard.
struct EscrowPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/orders/new") { request in
            _ = try site.requireViewer(request)
            let seller = request.uri.queryParameters["seller"].map(String.init)
            return try await renderNewOrder(request, form: .init(sellerId: seller), errors: [])
        }
        router.page("/orders", method: .post) { request in try await createOrder(request) }
        router.page("/orders") { request in try await listOrders(request) }
        router.page("/orders/{id}") { request in try await showOrder(request, id: try orderID(request)) }
        router.page("/orders/{id}/{action}", method: .post) { request in try await act(request) }
        router.page("/seller") { request in try await sellerDashboard(request) }
        router.page("/seller/policy", method: .post) { request in try await savePolicy(request) }
    }

    private func orderID(_ request: Request) throws -> OrderID {
        OrderID(try request.pathSegment(1))
    }

    // MARK: New order

    struct NewOrderForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var sellerId: String?
        var title: String?
        var quantity: String?
        var unitPrice: String?
        var currency: String?
    }

    struct NewOrderView: Sendable {
        struct Option: Sendable { let id: String; let name: String; let selected: Bool }
        struct CurrencyOption: Sendable { let code: String; let selected: Bool }
        let sellers: [Option]
        let currencies: [CurrencyOption]
        let form: NewOrderForm
        let errors: [FieldError]
    }

    private func renderNewOrder(_ request: Request, form: NewOrderForm, errors: [FieldError], status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let sellers = try await services.accounts.sellers().filter { $0.id != viewer.id }
        let chosen = form.currency ?? Self.checkoutCurrencies[0]
        var filled = form
        if filled.quantity == nil { filled.quantity = "1" }
        let view = NewOrderView(
            sellers: sellers.map { .init(id: $0.id.rawValue, name: $0.displayName, selected: $0.id.rawValue == form.sellerId) },
            currencies: Self.checkoutCurrencies.map { .init(code: $0, selected: $0 == chosen) },
            form: filled,
            errors: errors
        )
        return site.renderer.render("order-new", page: view, request: request, status: status)
    }

    /// The currencies the checkout form offers (the API takes any ISO 4217 code).
    static let checkoutCurrencies = ["EUR", "USD", "CNY", "GBP", "JPY"]

    private func createOrder(_ request: Request) async throws -> Response {
        let form = try await site.form(NewOrderForm.self, from: request)
        var errors: [FieldError] = []
        // An unknown currency is refused, never replaced by a default.
        let currency = Currency((form.currency ?? "").uppercased())
        if currency == nil { errors.append(FieldError(field: "currency", message: "Choose a currency such as EUR.")) }
        let quantity = Int(form.quantity ?? "")
        if quantity == nil { errors.append(FieldError(field: "quantity", message: "The quantity must be a whole number.")) }
        let price = currency.flatMap { Money.parseMinor(form.unitPrice ?? "", currency: $0) }
        if currency != nil, price == nil { errors.append(FieldError(field: "unitPrice", message: "Write the price like 12.50.")) }
        if errors.isEmpty, let currency, let quantity, let price {
            let request2 = NewOrder(
                sellerID: UserID(form.sellerId ?? ""), currency: currency.code,
                items: [LineItem(title: form.title ?? "", quantity: quantity, unitPriceMinor: price)]
            )
            do {
                let order = try await services.escrow.createOrder(request2, by: site.principal)
                return PageRenderer.redirect(to: "/orders/\(order.id)?notice=order-created")
            } catch let error as any DomainError where error.kind != .forbidden {
                errors = error.fieldErrors.isEmpty ? [FieldError(field: "sellerId", message: error.detail)] : error.fieldErrors
            }
        }
        let fixed = errors.map { FieldError(field: $0.field.hasPrefix("items[0].") ? String($0.field.dropFirst(9)).replacingOccurrences(of: "unitPriceMinor", with: "unitPrice") : $0.field, message: $0.message) }
        return try await renderNewOrder(request, form: form, errors: fixed, status: .badRequest)
    }

    // MARK: Lists

    struct OrderRow: Sendable {
        let id: String
        let counterparty: String
        let total: String
        let statusLabel: String
        let statusClass: String
        let created: String
    }

    struct OrdersView: Sendable {
        struct Section: Sendable { let key: String; let heading: String; let orders: [OrderRow] }
        let sections: [Section]
    }

    private func rows(_ orders: [Order], viewer: UserID) async throws -> [OrderRow] {
        let users = try await services.accounts.users(orders.flatMap { [$0.buyerID, $0.sellerID] })
        return orders.map { order in
            let other = order.buyerID == viewer ? order.sellerID : order.buyerID
            return OrderRow(
                id: order.id.rawValue, counterparty: users[other]?.displayName ?? other.rawValue, total: order.money.description,
                statusLabel: PageFormat.statusLabel(order.status), statusClass: PageFormat.statusClass(order.status),
                created: PageFormat.date(order.createdAt)
            )
        }
    }

    private func listOrders(_ request: Request) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let page = try PageRequest(limit: 100)
        var sections: [OrdersView.Section] = []
        for (role, key, heading) in [(EscrowService.ListRole.buyer, "purchases", "Purchases"), (.seller, "sales", "Sales")] {
            guard role == .buyer ? viewer.has(.buyer) : viewer.has(.seller) else { continue }
            let orders = try await services.escrow.orders(role: role, status: nil, page: page, by: site.principal).items.reversed()
            sections.append(.init(key: key, heading: heading, orders: try await rows(Array(orders), viewer: viewer.id)))
        }
        return site.renderer.render("orders", page: OrdersView(sections: sections), request: request)
    }

    // MARK: One order

    struct OrderPageView: Sendable {
        struct Item: Sendable { let title: String; let quantity: Int; let unitPrice: String; let lineTotal: String }
        struct TimelineEntry: Sendable { let at: String; let detail: String }
        struct TrackingEntry: Sendable { let at: String; let location: String; let description: String }
        struct ShipmentView: Sendable { let carrier: String; let trackingNumber: String; let events: [TrackingEntry] }
        struct SellerSummary: Sendable {
            let completedSales: Int
            let deposit, memberSince, score, tierName: String
            let warnings: [Warning]
        }
        struct Warning: Sendable { let kind, message, learnMore: String }
        struct Actions: Sendable {
            let canPay, canShip, canConfirm, canTrack, canExtend, canRequestRefund, canRefund, canCancel, canDecide, statementAllowed: Bool
            let refundDefault: String
            /// The payment provider's test cards, when it is the sandbox (a hint beside the card field).
            let testCards: [String]
        }
        struct DecisionRow: Sendable { let action, amount, reason, status, proposedAt: String; let failure: String? }
        struct OrderView: Sendable {
            let id, statusLabel, statusClass, escrowState, escrowSummary, total, fee, sellerNet, buyerName, sellerName, policyText: String
            let sellerProfileURL: String?
            /// The published rules the order was made under, with links.
            let rules: RulesLink?
            let payByText, confirmByText, returnDeadlineText, refundRequestText: String?
            let items: [Item]
            let shipment: ShipmentView?
            let timeline: [TimelineEntry]
            let seller: SellerSummary?
            let actions: Actions?
            let decisions: [DecisionRow]
            let ratings: RatingSectionView?
            let disputes: [DisputeLink]
            let canOpenDispute: Bool
            let disputeReasons: [Choice]
            let messages: [DisputePages.Entry]
            let canMessage: Bool
            /// For a party of a completed order: what they shared with friends, or the form to share.
            let experience: ExperienceSection?
            let error: String?
        }
        struct ExperienceSection: Sendable { let sharedText, sharedOn: String?; let canShare: Bool }
        struct DisputeLink: Sendable { let id, statusLabel, reason: String }
        struct RulesLink: Sendable { let trade, afterSales: Int }
        struct Choice: Sendable { let value, label: String }
        let order: OrderView
    }

    func showOrder(_ request: Request, id: OrderID, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let order = try await services.escrow.order(id, by: site.principal)
        let users = try await services.accounts.users([order.buyerID, order.sellerID])
        let now = services.clock.now()
        // What the viewer may do comes from the state machine, the same rule the API and jobs use.
        let (actor, allowed) = try services.escrow.allowedActions(on: order, by: site.principal)
        let isStaff = if case .staff = actor { true } else { false }

        var sellerSummary: OrderPageView.SellerSummary?
        if allowed.contains(.pay) {
            let summary = try await services.credit.checkoutSummary(seller: order.sellerID, currency: order.currency)
            let warnings = try await services.social.riskWarnings(on: order.id, by: site.principal)
            sellerSummary = .init(
                completedSales: summary.completedSales, deposit: summary.deposit.description, memberSince: PageFormat.date(summary.memberSince),
                score: "\(summary.score.score) of 1000", tierName: summary.score.tier.name,
                warnings: warnings.map { .init(kind: $0.kind.rawValue, message: $0.message, learnMore: "/learn/\($0.article)") }
            )
        }
        var ratings: RatingSectionView?
        if order.status == .completed || order.status == .refunded {
            let visible = try await services.ratings.ratings(of: order.id, by: site.principal)
            ratings = RatingSectionView.make(order: order, viewer: viewer, ratings: visible, windowDays: services.ratings.windowDays, now: now)
        }
        var decisions: [OrderPageView.DecisionRow] = []
        if isStaff || viewer.isStaff {
            decisions = try await services.escrow.decisions(on: order.id, by: site.principal).map {
                .init(action: $0.action.rawValue, amount: Money.format($0.amountMinor, $0.currency), reason: $0.reason,
                      status: $0.status.rawValue, proposedAt: PageFormat.dateTime($0.proposedAt), failure: $0.failureReason)
            }
        }
        var experience: OrderPageView.ExperienceSection?
        if order.status == .completed, viewer.id == order.buyerID || viewer.id == order.sellerID {
            let shared = try await services.community.shared(of: order.id, by: site.principal)
            experience = .init(sharedText: shared?.text, sharedOn: shared.map { PageFormat.date($0.createdAt) }, canShare: shared == nil)
        }
        let disputes = try await services.disputes.disputes(on: order)
        let messages = try await services.messages.messages(on: order.id, page: try PageRequest(limit: 100), by: site.principal).items
        let authors = try await services.accounts.users(messages.map(\.authorID))
        let split = FeeSplit(totalMinor: order.totalMinor - order.refundedMinor, feeBasisPoints: order.feeBasisPoints, fundShareBasisPoints: order.fundShareBasisPoints)
        let withinReturns = order.returnDeadline.map { now <= $0 } ?? false
        let actions = OrderPageView.Actions(
            canPay: allowed.contains(.pay),
            canShip: allowed.contains(.ship),
            canConfirm: allowed.contains(.confirmReceipt),
            canTrack: allowed.contains(.addTracking) && order.status == .shipped,
            canExtend: allowed.contains(.extendConfirmation),
            canRequestRefund: allowed.contains(.requestRefund) && order.refundRequest == nil,
            canRefund: allowed.contains(.refund) && !isStaff,
            canCancel: allowed.contains(.cancel) && !isStaff,
            canDecide: isStaff && (allowed.contains(.refund) || allowed.contains(.cancel)),
            statementAllowed: order.totalMinor <= services.settings.escrow.microPaymentLimitMinor,
            refundDefault: Money.format(min(order.refundRequest?.amountMinor ?? order.refundableMinor, order.refundableMinor), order.currency),
            testCards: services.payments.provider.name == "sandbox" ? SandboxPaymentProvider.testCards : []
        )
        let anyAction = actions.canPay || actions.canShip || actions.canConfirm || actions.canTrack || actions.canExtend
            || actions.canRequestRefund || actions.canRefund || actions.canCancel || actions.canDecide
        let policy = order.policy
        let policyText = (policy.returnWindowDays > 0 ? "\(policy.returnWindowDays)-day no-reason returns" : "No returns")
            + (policy.genuineGoodsGuarantee ? "; genuine goods guaranteed" : "")
        let view = OrderPageView.OrderView(
            id: order.id.rawValue,
            statusLabel: PageFormat.statusLabel(order.status),
            statusClass: PageFormat.statusClass(order.status),
            escrowState: order.escrowState.rawValue,
            escrowSummary: order.escrowSummary,
            total: order.money.description,
            fee: Money.format(split.platformFeeMinor + split.fundContributionMinor, order.currency),
            sellerNet: Money.format(split.sellerNetMinor, order.currency),
            buyerName: users[order.buyerID]?.displayName ?? order.buyerID.rawValue,
            sellerName: users[order.sellerID]?.displayName ?? order.sellerID.rawValue,
            policyText: policyText,
            sellerProfileURL: "/merchants/\(order.sellerID)",
            rules: order.rulesVersions.map { .init(trade: $0.trade, afterSales: $0.afterSales) },
            payByText: order.status == .created ? PageFormat.dateTime(order.payBy) : nil,
            confirmByText: order.status == .shipped && order.refundRequest == nil ? order.confirmBy.map(PageFormat.dateTime) : nil,
            returnDeadlineText: order.status == .completed && withinReturns ? order.returnDeadline.map(PageFormat.dateTime) : nil,
            refundRequestText: order.refundRequest.map { "The buyer asked for a refund of \(Money.format($0.amountMinor, order.currency)): \($0.reason). Automatic completion is paused until the seller answers." },
            items: order.items.map {
                .init(title: $0.title, quantity: $0.quantity, unitPrice: Money.format($0.unitPriceMinor, order.currency),
                      lineTotal: Money.format($0.unitPriceMinor.multipliedChecked(by: Int64($0.quantity)) ?? .max, order.currency))
            },
            shipment: order.shipment.map { shipment in
                .init(carrier: shipment.carrier, trackingNumber: shipment.trackingNumber,
                      events: shipment.events.map { .init(at: PageFormat.dateTime($0.at), location: $0.location, description: $0.description) })
            },
            timeline: order.timeline.map { .init(at: PageFormat.dateTime($0.at), detail: $0.detail) },
            seller: sellerSummary,
            actions: anyAction ? actions : nil,
            decisions: decisions,
            ratings: ratings,
            disputes: disputes.map { .init(id: $0.id.rawValue, statusLabel: DisputePages.statusLabel($0.status), reason: $0.reason.words) },
            canOpenDispute: allowed.contains(.openDispute) && !disputes.contains { $0.status.isOpen },
            disputeReasons: DisputeReason.allCases.map { .init(value: $0.rawValue, label: $0.words.capitalizedFirst) },
            messages: messages.map { message in
                .init(
                    author: message.authorID == viewer.id ? "You" : authors[message.authorID]?.displayName ?? message.authorID.rawValue,
                    role: message.role.rawValue, at: PageFormat.dateTime(message.createdAt), text: message.body,
                    attachments: message.attachments.map { .init(url: "/attachments/\($0.id)", name: $0.fileName, type: $0.type.label) }
                )
            },
            canMessage: viewer.id == order.buyerID || viewer.id == order.sellerID || viewer.isStaff,
            experience: experience,
            error: error
        )
        return site.renderer.render("order", page: OrderPageView(order: view), request: request, status: status)
    }

    // MARK: Actions

    struct ActionForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var method: String?
        var cardToken: String?
        var carrier: String?
        var trackingNumber: String?
        var location: String?
        var description: String?
        var days: String?
        var reason: String?
        var amount: String?
        var decision: String?
    }

    private func act(_ request: Request) async throws -> Response {
        let id = try orderID(request)
        let action = String(request.uri.path.split(separator: "/").last ?? "")
        let form = try await site.form(ActionForm.self, from: request)
        let principal = site.principal
        do {
            let current = try await services.escrow.order(id, by: principal)
            func amount() throws -> Int64? {
                guard let text = form.amount?.trimmingWhitespace(), !text.isEmpty else { return nil }
                guard let value = Money.parseMinor(text, currency: current.currency) else {
                    throw ValidationError(field: "amount", "Write the amount like 12.50.")
                }
                return value
            }
            let notice: String
            switch action {
            case "pay":
                let method: PaymentMethod
                switch form.method ?? "" {
                case "balance": method = .balance
                case "statement": method = .statement()
                case "card": method = .card(token: form.cardToken ?? "")
                default: throw ValidationError(field: "method", "Choose how to pay.")
                }
                _ = try await services.escrow.pay(id, with: method, by: principal)
                notice = "paid"
            case "ship":
                _ = try await services.escrow.perform(.ship(carrier: form.carrier ?? "", trackingNumber: form.trackingNumber ?? ""), on: id, by: principal)
                notice = "shipped"
            case "tracking":
                let event = TrackingEvent(at: services.clock.now(), location: form.location ?? "", description: form.description ?? "")
                _ = try await services.escrow.perform(.addTracking(event), on: id, by: principal)
                notice = "tracking-added"
            case "confirm":
                _ = try await services.escrow.perform(.confirmReceipt, on: id, by: principal)
                notice = "confirmed"
            case "extend":
                _ = try await services.escrow.perform(.extendConfirmation(days: Int(form.days ?? "") ?? 0), on: id, by: principal)
                notice = "extended"
            case "refund-request":
                _ = try await services.escrow.perform(.requestRefund(amountMinor: try amount(), reason: form.reason ?? ""), on: id, by: principal)
                notice = "refund-requested"
            case "refund":
                _ = try await services.escrow.perform(.refund(amountMinor: try amount(), reason: form.reason), on: id, by: principal)
                notice = "refunded"
            case "cancel":
                _ = try await services.escrow.perform(.cancel(reason: form.reason), on: id, by: principal)
                notice = "cancelled"
            case "decisions":
                let kind: StaffDecision.Action = form.decision == "cancel" ? .cancel : .refund
                let decision = try await services.escrow.proposeDecision(kind, amountMinor: try amount(), reason: form.reason ?? "", on: id, by: principal)
                notice = decision.status == .awaitingApproval ? "decision-awaiting-approval" : "decision-executed"
            default:
                throw WebError.routeNotFound
            }
            return PageRenderer.redirect(to: "/orders/\(id)?notice=\(notice)")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await showOrder(request, id: id, error: error.detail, status: error.kind.httpStatus)
        }
    }

    // MARK: Seller dashboard

    struct SellerView: Sendable {
        struct BalanceFigure: Sendable { let currency: String; let available: String; let incomingAsSeller: String }
        struct PolicyView: Sendable { let returnWindowDays: Int; let genuineGoodsGuarantee: Bool }
        let balances: [BalanceFigure]
        let toShip: [OrderRow]
        let toShipCount: Int
        let recent: [OrderRow]
        let policy: PolicyView
        let profileURL: String?
        let error: String?
    }

    private func sellerDashboard(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        guard viewer.has(.seller) else { throw AccessError.forbidden("The seller dashboard is for sellers.") }
        let toShip = try await services.escrow.orders(role: .seller, status: .paid, page: try PageRequest(limit: 100), by: site.principal).items
        let recent = try await services.escrow.orders(role: .seller, status: nil, page: try PageRequest(limit: 100), by: site.principal).items.suffix(20).reversed()
        let policy = try await services.escrow.policy(of: viewer.id)
        let balances = try await services.ledger.balances(of: viewer.id)
        let view = SellerView(
            balances: balances.map { .init(currency: $0.currency.code, available: Money.format($0.availableMinor, $0.currency), incomingAsSeller: Money.format($0.incomingAsSellerMinor, $0.currency)) },
            toShip: try await rows(toShip, viewer: viewer.id),
            toShipCount: toShip.count,
            recent: try await rows(Array(recent), viewer: viewer.id),
            policy: .init(returnWindowDays: policy.returnWindowDays, genuineGoodsGuarantee: policy.genuineGoodsGuarantee),
            profileURL: "/merchants/\(viewer.id)",
            error: error
        )
        return site.renderer.render("seller", page: view, request: request, status: status)
    }

    private func savePolicy(_ request: Request) async throws -> Response {
        struct PolicyForm: Decodable, CSRFProtectedForm { var csrfToken: String?; var returnWindowDays: String?; var genuineGoodsGuarantee: String? }
        let form = try await site.form(PolicyForm.self, from: request)
        do {
            let policy = AfterSalesPolicy(returnWindowDays: Int(form.returnWindowDays ?? "") ?? -1, genuineGoodsGuarantee: form.genuineGoodsGuarantee != nil)
            _ = try await services.escrow.setPolicy(policy, by: site.principal)
            return PageRenderer.redirect(to: "/seller?notice=policy-saved")
        } catch let error as ValidationError {
            return try await sellerDashboard(request, error: error.detail, status: .badRequest)
        }
    }
}
