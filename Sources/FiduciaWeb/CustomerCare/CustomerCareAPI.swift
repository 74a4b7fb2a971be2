import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Merchants' service commitments and loyalty programmes (F6).
extension FiduciaAPIHandler {
    func setServiceCommitments(_ input: Operations.SetServiceCommitments.Input) async throws -> Operations.SetServiceCommitments.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let report = try await services.customerCare.setCommitments(answerWithinHours: body.answerWithinHours, shipWithinHours: body.shipWithinHours, by: principal)
        return .ok(.init(body: .json(.init(report))))
    }

    func getServiceCommitments(_ input: Operations.GetServiceCommitments.Input) async throws -> Operations.GetServiceCommitments.Output {
        guard let report = try await services.customerCare.commitments(of: UserID(input.path.userId)) else {
            throw NotFoundError(entity: "service commitments", id: input.path.userId)
        }
        return .ok(.init(body: .json(.init(report))))
    }

    func setLoyaltyProgramme(_ input: Operations.SetLoyaltyProgramme.Input) async throws -> Operations.SetLoyaltyProgramme.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let programme = try await services.customerCare.setProgramme(
            pointsPerUnit: body.pointsPerUnit, levels: body.levels.map { .init(name: $0.name, minimumPoints: $0.minimumPoints, benefit: $0.benefit) }, by: principal
        )
        return .ok(.init(body: .json(.init(programme))))
    }

    func getLoyaltyProgramme(_ input: Operations.GetLoyaltyProgramme.Input) async throws -> Operations.GetLoyaltyProgramme.Output {
        let seller = UserID(input.path.userId)
        guard let programme = try await services.customerCare.programme(of: seller) else { throw NotFoundError(entity: "loyalty programme", id: seller.rawValue) }
        let mine = try await services.customerCare.membership(at: seller, by: principal)
        return .ok(.init(body: .json(.init(
            programme: .init(programme), myPoints: mine?.points, myLevel: mine.map { $0.programme.standing(points: $0.points).level.name }
        ))))
    }

    func listMyLoyalty(_ input: Operations.ListMyLoyalty.Input) async throws -> Operations.ListMyLoyalty.Output {
        let memberships = try await services.customerCare.memberships(by: principal)
        return .ok(.init(body: .json(.init(items: memberships.map {
            .init(
                sellerId: $0.seller.id.rawValue, sellerName: $0.seller.displayName, points: $0.points, level: $0.level.name, benefit: $0.level.benefit,
                nextLevel: $0.next?.name, pointsToNextLevel: $0.toNext
            )
        }))))
    }
}

extension Components.Schemas.ServiceCommitments {
    init(_ report: CustomerCareService.CommitmentReport) {
        func record(_ record: ServiceCommitments.Record?) -> Components.Schemas.CommitmentRecord? {
            record.map { .init(kept: $0.kept, total: $0.total, percent: $0.percent) }
        }
        self.init(
            answerWithinHours: report.commitments.answerWithinHours, shipWithinHours: report.commitments.shipWithinHours, since: report.commitments.since,
            measuredFrom: report.from, answering: record(report.answering), shipping: record(report.shipping)
        )
    }
}

extension Components.Schemas.LoyaltyProgramme {
    init(_ programme: LoyaltyProgramme) {
        self.init(pointsPerUnit: programme.pointsPerUnit, levels: programme.levels.map { .init(name: $0.name, minimumPoints: $0.minimumPoints, benefit: $0.benefit) })
    }
}
