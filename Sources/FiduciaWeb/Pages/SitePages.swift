import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird
import NIOCore

/// The home page, the API reference, the error catalogue, the stylesheet and the OpenAPI document.
struct SitePages: Sendable {
    let site: Site
    let documentation: APIDocumentation
    let openAPIYAML: String
    let stylesheet: String

    init(site: Site) throws {
        self.site = site
        self.openAPIYAML = try OpenAPIDocument.yaml()
        self.documentation = try APIDocumentation(yaml: openAPIYAML)
        guard let css = Bundle.module.url(forResource: "Resources/Static/fiducia", withExtension: "css") else {
            throw CocoaError(.fileNoSuchFile)
        }
        self.stylesheet = try String(contentsOf: css, encoding: .utf8)
    }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/") { request in
            let members = try await site.services.accounts.memberCount()
            let sellers = try await site.services.credit.rankedSellers(limit: 10)
            let view = HomeView(
                stats: .init(members: members),
                sellers: sellers.map { .init(id: $0.id.rawValue, name: $0.displayName, tier: $0.tier.rawValue, tierName: $0.tier.name, score: $0.score) }
            )
            return site.renderer.render("home", page: view, request: request)
        }
        router.page("/docs") { request in
            site.renderer.render("docs", page: documentation, request: request)
        }
        router.page("/problems") { request in
            site.renderer.render("problems", page: ProblemsView(problems: ProblemCatalog.entries), request: request)
        }
        router.page("/problems/{code}") { request in
            // A problem type resolves to its entry in the catalogue.
            let code = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
            guard ProblemCatalog.entry(code) != nil else { throw WebError.routeNotFound }
            return PageRenderer.redirect(to: "/problems#\(code)")
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: openAPIYAML)))
        }
        router.get("/static/fiducia.css") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: stylesheet))
            )
        }
    }

    struct HomeView: Sendable {
        struct Stats: Sendable { let members: Int }
        struct Seller: Sendable { let id, name, tier, tierName: String; let score: Int }
        let stats: Stats
        let sellers: [Seller]
    }

    struct ProblemsView: Sendable {
        let problems: [ProblemCatalog.Entry]
    }
}
