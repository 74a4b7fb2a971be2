import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Orders with escrow (B1, B2, B7, B8).
extension FiduciaAPIHandler {
    func createOrder(_ input: Operations.CreateOrder.Input) async throws -> Operations.CreateOrder.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let request = NewOrder(
            sellerID: UserID(body.sellerId),
            currency: body.currency.rawValue,
            items: body.items.map { LineItem(title: $0.title, quantity: Int(clamping: $0.quantity), unitPriceMinor: $0.unitPriceMinor) }
        )
        let order = try await services.escrow.createOrder(request, by: principal)
        return .created(.init(headers: .init(location: "/v1/orders/\(order.id)"), body: .json(wire(order))))
    }

    func listOrders(_ input: Operations.ListOrders.Input) async throws -> Operations.ListOrders.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let role = EscrowService.ListRole(rawValue: input.query.role?.rawValue ?? "any") ?? .any
        let status = input.query.status.flatMap { OrderStatus(rawValue: $0.rawValue) }
        let result = try await services.escrow.orders(role: role, status: status, page: page, by: principal)
        return .ok(.init(body: .json(.init(items: result.items.map(wire), nextCursor: result.nextCursor))))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        .ok(.init(body: .json(wire(try await services.escrow.order(OrderID(input.path.orderId), by: principal)))))
    }

    func payOrder(_ input: Operations.PayOrder.Input) async throws -> Operations.PayOrder.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let method: PaymentMethod
        switch body.method {
        case .card:
            guard let token = body.cardToken, !token.isEmpty else { throw ValidationError(field: "cardToken", "A card payment needs a cardToken.") }
            method = .card(token: token)
        case .balance: method = .balance
        case .statement: method = .statement()
        }
        let order = try await services.escrow.pay(OrderID(input.path.orderId), with: method, by: principal)
        return .ok(.init(body: .json(wire(order))))
    }

    func shipOrder(_ input: Operations.ShipOrder.Input) async throws -> Operations.ShipOrder.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        return .ok(.init(body: .json(wire(try await act(.ship(carrier: body.carrier, trackingNumber: body.trackingNumber), input.path.orderId)))))
    }

    func addTrackingEvent(_ input: Operations.AddTrackingEvent.Input) async throws -> Operations.AddTrackingEvent.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let event = TrackingEvent(at: body.at ?? services.clock.now(), location: body.location, description: body.description)
        return .ok(.init(body: .json(wire(try await act(.addTracking(event), input.path.orderId)))))
    }

    func confirmReceipt(_ input: Operations.ConfirmReceipt.Input) async throws -> Operations.ConfirmReceipt.Output {
        .ok(.init(body: .json(wire(try await act(.confirmReceipt, input.path.orderId)))))
    }

    func cancelOrder(_ input: Operations.CancelOrder.Input) async throws -> Operations.CancelOrder.Output {
        var reason: String?
        if case .json(let body) = input.body { reason = try Self.reason(body.reason) }
        return .ok(.init(body: .json(wire(try await act(.cancel(reason: reason), input.path.orderId)))))
    }

    func requestRefund(_ input: Operations.RequestRefund.Input) async throws -> Operations.RequestRefund.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        guard let reason = try Self.reason(body.reason) else { throw ValidationError(field: "reason", "Say why you ask for a refund.") }
        return .ok(.init(body: .json(wire(try await act(.requestRefund(amountMinor: body.amountMinor, reason: reason), input.path.orderId)))))
    }

    func refundOrder(_ input: Operations.RefundOrder.Input) async throws -> Operations.RefundOrder.Output {
        var requested: Int64?
        var reason: String?
        if case .json(let body) = input.body {
            requested = body.amountMinor
            reason = try Self.reason(body.reason)
        }
        return .ok(.init(body: .json(wire(try await act(.refund(amountMinor: requested, reason: reason), input.path.orderId)))))
    }

    func extendConfirmation(_ input: Operations.ExtendConfirmation.Input) async throws -> Operations.ExtendConfirmation.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        return .ok(.init(body: .json(wire(try await act(.extendConfirmation(days: Int(clamping: body.days)), input.path.orderId)))))
    }

    func getAfterSalesPolicy(_ input: Operations.GetAfterSalesPolicy.Input) async throws -> Operations.GetAfterSalesPolicy.Output {
        let seller = try await services.accounts.user(UserID(input.path.userId))
        guard seller.has(.seller) else { throw EscrowError.sellerNotFound }
        return .ok(.init(body: .json(.init(try await services.escrow.policy(of: seller.id)))))
    }

    func setAfterSalesPolicy(_ input: Operations.SetAfterSalesPolicy.Input) async throws -> Operations.SetAfterSalesPolicy.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let policy = AfterSalesPolicy(returnWindowDays: Int(clamping: body.returnWindowDays), genuineGoodsGuarantee: body.genuineGoodsGuarantee)
        return .ok(.init(body: .json(.init(try await services.escrow.setPolicy(policy, by: principal)))))
    }

    // MARK: Staff decisions

    func proposeStaffDecision(_ input: Operations.ProposeStaffDecision.Input) async throws -> Operations.ProposeStaffDecision.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let action: StaffDecision.Action = body.action == .cancel ? .cancel : .refund
        let decision = try await services.escrow.proposeDecision(action, amountMinor: body.amountMinor, reason: body.reason, on: OrderID(input.path.orderId), by: principal)
        return .created(.init(body: .json(.init(decision))))
    }

    func listOrderStaffDecisions(_ input: Operations.ListOrderStaffDecisions.Input) async throws -> Operations.ListOrderStaffDecisions.Output {
        let decisions = try await services.escrow.decisions(on: OrderID(input.path.orderId), by: principal)
        return .ok(.init(body: .json(.init(items: decisions.map(Components.Schemas.StaffDecision.init)))))
    }

    func listStaffDecisions(_ input: Operations.ListStaffDecisions.Input) async throws -> Operations.ListStaffDecisions.Output {
        let decisions = try await services.escrow.decisionsAwaitingApproval(by: principal)
        return .ok(.init(body: .json(.init(items: decisions.map(Components.Schemas.StaffDecision.init)))))
    }

    func approveStaffDecision(_ input: Operations.ApproveStaffDecision.Input) async throws -> Operations.ApproveStaffDecision.Output {
        .ok(.init(body: .json(.init(try await services.escrow.approveDecision(StaffDecisionID(input.path.decisionId), by: principal)))))
    }

    func rejectStaffDecision(_ input: Operations.RejectStaffDecision.Input) async throws -> Operations.RejectStaffDecision.Output {
        .ok(.init(body: .json(.init(try await services.escrow.rejectDecision(StaffDecisionID(input.path.decisionId), by: principal)))))
    }

    private func act(_ action: OrderAction, _ id: String) async throws -> Order {
        try await services.escrow.perform(action, on: OrderID(id), by: principal)
    }

    /// The order as the caller sees it on the wire, with what the caller may do next.
    private func wire(_ order: Order) -> Components.Schemas.Order {
        let actions = (try? services.escrow.allowedActions(on: order, by: principal).actions) ?? []
        return Components.Schemas.Order(order, allowedActions: actions)
    }

    private static func reason(_ text: String?) throws -> String? {
        guard let text = text?.trimmingWhitespace(), !text.isEmpty else { return nil }
        guard text.codePointCount <= 500 else { throw ValidationError(field: "reason", "The reason must be at most 500 characters.") }
        return text
    }
}

extension Components.Schemas.AfterSalesPolicy {
    init(_ policy: AfterSalesPolicy) {
        self.init(returnWindowDays: Int64(policy.returnWindowDays), genuineGoodsGuarantee: policy.genuineGoodsGuarantee)
    }
}

extension Order {
    /// Where the buyer's money is, as one word.
    var escrowState: Components.Schemas.Escrow.StatePayload {
        switch status {
        case .created: .awaitingPayment
        case .paid, .shipped: escrowFrozen ? .frozen : .held
        case .completed: .released
        case .cancelled: paidAt == nil ? .none : .returned
        case .refunded: refundedMinor == totalMinor ? .returned : .partlyReturned
        }
    }
}

extension Components.Schemas.StaffDecision {
    init(_ decision: StaffDecision) {
        self.init(
            id: decision.id.rawValue, orderId: decision.orderID.rawValue, action: .init(rawValue: decision.action.rawValue)!,
            amountMinor: decision.amountMinor, currency: decision.currency.code, reason: decision.reason, proposedBy: decision.proposedBy.rawValue,
            proposedAt: decision.proposedAt, status: .init(rawValue: decision.status.rawValue)!, approvedBy: decision.approvedBy?.rawValue,
            decidedAt: decision.decidedAt, failureReason: decision.failureReason
        )
    }
}

extension Components.Schemas.Order {
    init(_ order: Order, allowedActions: [OrderActionKind]) {
        let split = FeeSplit(totalMinor: order.totalMinor - order.refundedMinor, feeBasisPoints: order.feeBasisPoints, fundShareBasisPoints: order.fundShareBasisPoints)
        self.init(
            id: order.id.rawValue,
            status: .init(rawValue: order.status.rawValue)!,
            totalMinor: order.totalMinor,
            currency: order.currency.code,
            buyerId: order.buyerID.rawValue,
            sellerId: order.sellerID.rawValue,
            items: order.items.map { .init(title: $0.title, quantity: Int64($0.quantity), unitPriceMinor: $0.unitPriceMinor) },
            policy: .init(order.policy),
            escrow: .init(state: order.escrowState, summary: order.escrowSummary),
            platformFeeMinor: split.platformFeeMinor + split.fundContributionMinor,
            sellerNetMinor: split.sellerNetMinor,
            paymentMethod: order.paymentMethod,
            payBy: order.payBy,
            paidAt: order.paidAt,
            shipment: order.shipment.map { shipment in
                .init(
                    carrier: shipment.carrier, trackingNumber: shipment.trackingNumber,
                    events: shipment.events.map { .init(at: $0.at, location: $0.location, description: $0.description) }
                )
            },
            shippedAt: order.shippedAt,
            confirmBy: order.confirmBy,
            confirmationExtended: order.confirmationExtended,
            refundRequest: order.refundRequest.map { .init(amountMinor: $0.amountMinor, reason: $0.reason, requestedAt: $0.requestedAt) },
            refundedMinor: order.refundedMinor,
            heldMinor: order.heldMinor,
            refundableMinor: order.refundableMinor,
            allowedActions: allowedActions.map(\.rawValue),
            completedAt: order.completedAt,
            returnDeadline: order.returnDeadline,
            closedAt: order.closedAt,
            timeline: order.timeline.map { .init(at: $0.at, kind: $0.kind.rawValue, actorId: $0.actor?.rawValue, detail: $0.detail) },
            createdAt: order.createdAt,
            rulesVersions: order.rulesVersions.map { .init(trade: $0.trade, afterSales: $0.afterSales) }
        )
    }
}
