import FiduciaAPI
import FiduciaDomain
import FiduciaPersistence
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

    func register(on router: Router<BasicRequestContext>) {
        router.page("/") { request in
            let members = try await site.services.store.read { try await $0.users.count() }
            return site.renderer.render("home", page: HomeView(stats: .init(members: members)), request: request)
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
        let stats: Stats
    }

    struct ProblemsView: Sendable {
        let problems: [ProblemCatalog.Entry]
    }
}
