import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import OpenAPIRuntime

/// Balances, deposits, payouts, saved cards, statements, webhooks and ledger verification (B3–B6).
extension FiduciaAPIHandler {
    func getBalances(_ input: Operations.GetBalances.Input) async throws -> Operations.GetBalances.Output {
        let user = try principal.requireUser()
        let balances = try await services.ledger.balances(of: user.id)
        return .ok(.init(body: .json(.init(items: balances.map(Components.Schemas.Balance.init)))))
    }

    func placeDeposit(_ input: Operations.PlaceDeposit.Input) async throws -> Operations.PlaceDeposit.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let source: PaymentsService.Source
        switch body.source {
        case .card:
            guard let token = body.cardToken, !token.isEmpty else { throw ValidationError(field: "cardToken", "A card deposit needs a cardToken.") }
            source = .card(token: token)
        case .balance:
            source = .balance
        }
        let balance = try await services.payments.placeDeposit(currency: body.currency.rawValue, amountMinor: body.amountMinor, from: source, by: principal)
        return .created(.init(body: .json(.init(balance))))
    }

    func withdrawDeposit(_ input: Operations.WithdrawDeposit.Input) async throws -> Operations.WithdrawDeposit.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let balance = try await services.payments.withdrawDeposit(currency: body.currency.rawValue, amountMinor: body.amountMinor, by: principal)
        return .created(.init(body: .json(.init(balance))))
    }

    func createPayout(_ input: Operations.CreatePayout.Input) async throws -> Operations.CreatePayout.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let payout = try await services.payments.requestPayout(currency: body.currency.rawValue, amountMinor: body.amountMinor, destination: body.destination, by: principal)
        return .created(.init(body: .json(.init(payout))))
    }

    func listPayouts(_ input: Operations.ListPayouts.Input) async throws -> Operations.ListPayouts.Output {
        .ok(.init(body: .json(.init(items: try await services.payments.payouts(by: principal).map(Components.Schemas.Payout.init)))))
    }

    func saveCard(_ input: Operations.SaveCard.Input) async throws -> Operations.SaveCard.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let card = try await services.payments.saveCard(token: body.cardToken, by: principal)
        return .ok(.init(body: .json(.init(label: card.label))))
    }

    func listStatements(_ input: Operations.ListStatements.Input) async throws -> Operations.ListStatements.Output {
        let statements = try await services.payments.statements(by: principal)
        return .ok(.init(body: .json(.init(items: statements.map {
            .init(id: $0.id.rawValue, currency: $0.currency.code, month: $0.month, status: .init(rawValue: $0.status.rawValue)!,
                  totalMinor: $0.totalMinor, itemCount: Int64($0.itemCount), failureReason: $0.failureReason)
        }))))
    }

    func receiveWebhook(_ input: Operations.ReceiveWebhook.Input) async throws -> Operations.ReceiveWebhook.Output {
        guard case .any(let body) = input.body else { preconditionFailure("the generated server passes the raw body") }
        let bytes = try await [UInt8](collecting: body, upTo: 64 * 1024)
        let fresh = try await services.payments.receiveWebhook(provider: input.path.provider, body: bytes, signature: input.headers.fiduciaSignature)
        return .ok(.init(body: .json(.init(received: true, duplicate: !fresh))))
    }

    func verifyLedger(_ input: Operations.VerifyLedger.Input) async throws -> Operations.VerifyLedger.Output {
        _ = try principal.requireRole(.admin)
        let report = try await services.ledger.verify()
        return .ok(.init(body: .json(.init(report))))
    }
}

extension Components.Schemas.Balance {
    init(_ balance: UserBalance) {
        self.init(
            currency: balance.currency.code, availableMinor: balance.availableMinor, reservedMinor: balance.reservedMinor,
            withdrawableMinor: balance.withdrawableMinor, reserveExplanation: balance.reserveExplanation,
            refundingToCardMinor: balance.refundingToCardMinor, heldAsBuyerMinor: balance.heldAsBuyerMinor,
            incomingAsSellerMinor: balance.incomingAsSellerMinor, payingOutMinor: balance.payingOutMinor, depositMinor: balance.depositMinor,
            debtMinor: balance.debtMinor, statementMinor: balance.statementMinor
        )
    }
}

extension Components.Schemas.Payout {
    init(_ payout: Payout) {
        self.init(
            id: payout.id.rawValue, currency: payout.currency.code, amountMinor: payout.amountMinor, destination: payout.destination,
            status: .init(rawValue: payout.status.rawValue)!, failureReason: payout.failureReason, createdAt: payout.createdAt,
            submittedAt: payout.submittedAt, settledAt: payout.settledAt
        )
    }
}

extension Components.Schemas.LedgerReport {
    init(_ report: LedgerAudit.Report) {
        self.init(
            clean: report.isClean,
            transfersChecked: Int64(report.transfersChecked),
            accountsChecked: Int64(report.accountsChecked),
            findings: report.findings.map { .init(code: .init(rawValue: $0.code.rawValue)!, message: $0.message) },
            currencies: report.totals.keys.sorted().map { currency in
                let totals = report.totals[currency]!
                return .init(
                    currency: currency.code, escrowHeldMinor: totals.escrowHeldMinor, ordersHeldMinor: totals.ordersHeldMinor,
                    feesMinor: totals.feesMinor, guaranteeFundMinor: totals.guaranteeFundMinor, guaranteeClaimsMinor: totals.guaranteeClaimsMinor,
                    userBalancesMinor: totals.userBalancesMinor, externalMinor: totals.externalMinor
                )
            }
        )
    }
}
