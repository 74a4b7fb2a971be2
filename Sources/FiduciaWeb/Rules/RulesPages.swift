import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The published rules (F2): `/rules` lists the documents; each has its version in force, its
/// history with what changed, any version announced for later, and a diff between any two.
struct RulesPages: Sendable {
    let site: Site
    var rules: RulesService { site.services.rules }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/rules") { request in try await index(request) }
        router.page("/rules/{document}") { request in try await document(request, version: nil) }
        router.page("/rules/{document}/versions/{version}") { request in
            guard let number = Int(try request.pathSegment(3)) else { throw WebError.routeNotFound }
            return try await document(request, version: number)
        }
        router.page("/rules/{document}/diff") { request in try await diff(request) }
    }

    struct Entry: Sendable { let document, title: String; let version: Int; let effective, changes: String }
    struct IndexView: Sendable { let documents: [Entry] }

    private func index(_ request: Request) async throws -> Response {
        let documents = rules.library.documents.compactMap { key in
            rules.inForce(key).map { Entry(document: key, title: $0.title, version: $0.version, effective: $0.effective, changes: $0.changes) }
        }
        return site.renderer.render("rules", page: IndexView(documents: documents), request: request)
    }

    struct HistoryRow: Sendable {
        let version: Int
        let effective, changes, status: String
        let isShown: Bool
        let previous: Int?
    }
    struct DocumentView: Sendable {
        let document, title: String
        let version: Int
        let effective, changes, status: String
        let html: String
        let history: [HistoryRow]
    }

    private func status(of version: RulesVersion, inForce: RulesVersion?) -> String {
        if version.version == inForce?.version { return "in force" }
        return version.version > (inForce?.version ?? 0) ? "announced, in force from \(version.effective)" : "replaced"
    }

    private func document(_ request: Request, version number: Int?) async throws -> Response {
        let key = try request.pathSegment(1)
        let inForce = rules.inForce(key)
        guard let shown = number.map({ rules.library.version($0, of: key) }) ?? inForce ?? rules.library.history(of: key).first else {
            throw WebError.routeNotFound
        }
        let history = rules.library.history(of: key)
        let view = DocumentView(
            document: key, title: shown.title, version: shown.version, effective: shown.effective, changes: shown.changes,
            status: status(of: shown, inForce: inForce), html: Markdown.html(shown.text),
            history: history.reversed().map { row in
                HistoryRow(
                    version: row.version, effective: row.effective, changes: row.changes, status: status(of: row, inForce: inForce),
                    isShown: row.version == shown.version, previous: history.last { $0.version < row.version }?.version
                )
            }
        )
        return site.renderer.render("rules-document", page: view, request: request)
    }

    struct DiffLine: Sendable { let kind, text: String }
    struct DiffView: Sendable {
        let document, title: String
        let from, to: Int
        let lines: [DiffLine]
        let added, removed: Int
    }

    private func diff(_ request: Request) async throws -> Response {
        let key = try request.pathSegment(1)
        let history = rules.library.history(of: key)
        guard let newest = history.last else { throw WebError.routeNotFound }
        let toNumber = request.uri.queryParameters["to"].flatMap { Int(String($0)) } ?? newest.version
        let fromNumber = request.uri.queryParameters["from"].flatMap { Int(String($0)) } ?? history.last { $0.version < toNumber }?.version ?? toNumber
        guard let from = rules.library.version(fromNumber, of: key), let to = rules.library.version(toNumber, of: key) else {
            throw WebError.routeNotFound
        }
        let lines = TextDiff.lines(from: from.text, to: to.text)
        let view = DiffView(
            document: key, title: to.title, from: from.version, to: to.version,
            lines: lines.map { DiffLine(kind: $0.kind.rawValue, text: $0.text) },
            added: lines.filter { $0.kind == .added }.count, removed: lines.filter { $0.kind == .removed }.count
        )
        return site.renderer.render("rules-diff", page: view, request: request)
    }
}
