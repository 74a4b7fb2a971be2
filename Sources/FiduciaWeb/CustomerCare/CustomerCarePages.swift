import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// Customer care (F6): the seller's page for commitments and the loyalty programme, the buyer's
/// memberships, and the panel a merchant's profile shows.
struct CustomerCarePages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/seller/care") { request in try await care(request) }
        router.page("/seller/care/commitments", method: .post) { request in try await saveCommitments(request) }
        router.page("/seller/care/loyalty", method: .post) { request in try await saveProgramme(request) }
        router.page("/loyalty") { request in try await memberships(request) }
    }

    /// What a merchant's profile shows: the promises with their record, and the programme.
    struct Panel: Sendable {
        struct Promise: Sendable { let text, record: String; let percent: Int? }
        struct Level: Sendable { let name, benefit: String; let minimumPoints: Int64; let mine: Bool }
        let promises: [Promise]
        let pointsPerUnit: Int?
        let levels: [Level]
        let myPoints: Int64?
    }

    static func promiseText(_ hours: Int, _ what: String) -> String {
        hours % 24 == 0 && hours >= 48 ? "\(what) within \(hours / 24) days" : "\(what) within \(hours) hours"
    }

    static func recordText(_ record: ServiceCommitments.Record?) -> (String, Int?) {
        guard let record, let percent = record.percent else { return ("not measured yet: nothing to judge in the last 90 days", nil) }
        return ("kept \(percent)% of the time in the last 90 days (\(record.kept) of \(record.total))", percent)
    }

    func panel(for seller: UserID) async throws -> Panel? {
        let report = try await services.customerCare.commitments(of: seller)
        let mine = try await services.customerCare.membership(at: seller, by: site.principal)
        var programme = mine?.programme
        if programme == nil { programme = try await services.customerCare.programme(of: seller) }
        guard report != nil || programme != nil else { return nil }
        var promises: [Panel.Promise] = []
        if let report {
            if let hours = report.commitments.answerWithinHours {
                let (text, percent) = Self.recordText(report.answering)
                promises.append(.init(text: Self.promiseText(hours, "Answers messages"), record: text, percent: percent))
            }
            if let hours = report.commitments.shipWithinHours {
                let (text, percent) = Self.recordText(report.shipping)
                promises.append(.init(text: Self.promiseText(hours, "Ships paid orders"), record: text, percent: percent))
            }
        }
        let reached = mine.map { $0.programme.standing(points: $0.points).level.name }
        return Panel(
            promises: promises, pointsPerUnit: programme?.pointsPerUnit,
            levels: programme?.levels.map { .init(name: $0.name, benefit: $0.benefit, minimumPoints: $0.minimumPoints, mine: $0.name == reached) } ?? [],
            myPoints: mine?.points
        )
    }

    struct CareView: Sendable {
        struct LevelRow: Sendable { let index: Int; let name, benefit: String; let minimumPoints: String }
        let answerWithinHours, shipWithinHours: String
        let panel: Panel?
        let pointsPerUnit: String
        let levels: [LevelRow]
        let error: String?
    }

    private func care(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        guard viewer.has(.seller) else { throw AccessError.forbidden("Customer care settings are for sellers.") }
        let report = try await services.customerCare.commitments(of: viewer.id)
        let programme = try await services.customerCare.programme(of: viewer.id)
        var levels = (programme?.levels ?? [
            .init(name: "Member", minimumPoints: 0, benefit: "Thank-you note in every parcel"),
            .init(name: "Silver", minimumPoints: 500, benefit: "Free shipping"),
            .init(name: "Gold", minimumPoints: 2_000, benefit: "5% off and first look at new stock"),
        ]).enumerated().map { CareView.LevelRow(index: $0.offset, name: $0.element.name, benefit: $0.element.benefit, minimumPoints: String($0.element.minimumPoints)) }
        while levels.count < LoyaltyProgramme.levelCount.upperBound { levels.append(.init(index: levels.count, name: "", benefit: "", minimumPoints: "")) }
        let view = CareView(
            answerWithinHours: report?.commitments.answerWithinHours.map(String.init) ?? "",
            shipWithinHours: report?.commitments.shipWithinHours.map(String.init) ?? "",
            panel: try await panel(for: viewer.id), pointsPerUnit: String(programme?.pointsPerUnit ?? 1), levels: levels, error: error
        )
        return site.renderer.render("seller-care", page: view, request: request, status: status)
    }

    struct CommitmentsForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var answerWithinHours: String?
        var shipWithinHours: String?
    }

    private func saveCommitments(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(CommitmentsForm.self, from: request)
        func hours(_ text: String?, _ field: String) throws -> Int? {
            guard let text = text?.trimmingWhitespace(), !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw ValidationError(field: field, "Give a whole number of hours.") }
            return value
        }
        do {
            _ = try await services.customerCare.setCommitments(
                answerWithinHours: try hours(form.answerWithinHours, "answerWithinHours"), shipWithinHours: try hours(form.shipWithinHours, "shipWithinHours"),
                by: site.principal
            )
            return PageRenderer.redirect(to: "/seller/care?notice=commitments-saved")
        } catch let error as ValidationError {
            return try await care(request, error: error.detail, status: .badRequest)
        }
    }

    /// Five rows of level fields (the form shows them all; empty rows are ignored).
    struct ProgrammeForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var pointsPerUnit: String?
        var level0Name, level0Points, level0Benefit: String?
        var level1Name, level1Points, level1Benefit: String?
        var level2Name, level2Points, level2Benefit: String?
        var level3Name, level3Points, level3Benefit: String?
        var level4Name, level4Points, level4Benefit: String?

        var rows: [(String, String, String)] {
            [(level0Name, level0Points, level0Benefit), (level1Name, level1Points, level1Benefit), (level2Name, level2Points, level2Benefit),
             (level3Name, level3Points, level3Benefit), (level4Name, level4Points, level4Benefit)].map { ($0 ?? "", $1 ?? "", $2 ?? "") }
        }
    }

    private func saveProgramme(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(ProgrammeForm.self, from: request)
        var levels: [LoyaltyProgramme.Level] = []
        for (name, minimum, benefit) in form.rows {
            if name.trimmingWhitespace().isEmpty, benefit.trimmingWhitespace().isEmpty, minimum.trimmingWhitespace().isEmpty { continue }
            levels.append(.init(name: name, minimumPoints: Int64(minimum.trimmingWhitespace()) ?? -1, benefit: benefit))
        }
        do {
            _ = try await services.customerCare.setProgramme(pointsPerUnit: Int(form.pointsPerUnit ?? "") ?? 0, levels: levels, by: site.principal)
            return PageRenderer.redirect(to: "/seller/care?notice=loyalty-saved")
        } catch let error as any DomainError where error.kind == .invalidInput || error.kind == .unprocessable {
            return try await care(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    struct MembershipsView: Sendable {
        struct Row: Sendable { let sellerId, sellerName, level, benefit: String; let points: Int64; let next: String? }
        let rows: [Row]
    }

    private func memberships(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let memberships = try await services.customerCare.memberships(by: site.principal)
        let view = MembershipsView(rows: memberships.map { membership in
            .init(
                sellerId: membership.seller.id.rawValue, sellerName: membership.seller.displayName, level: membership.level.name,
                benefit: membership.level.benefit, points: membership.points,
                next: membership.next.map { "\(membership.toNext ?? 0) points to \($0.name)" }
            )
        })
        return site.renderer.render("loyalty", page: view, request: request)
    }
}
