import FiduciaAPI
import FiduciaServices
import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// Wires the whole HTTP application from one configuration: middleware, the OpenAPI handlers,
/// the pages, the operations endpoints and, optionally, the background job runner.
public func buildApplication(
    services: AppServices,
    configuration: WebConfiguration,
    logger: Logger,
    metrics: HTTPMetrics = HTTPMetrics()
) async throws -> some ApplicationProtocol {
    let router = try await buildRouter(services: services, configuration: configuration, metrics: metrics)
    var application = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Fiducia"),
        logger: logger
    )
    if configuration.runsJobs {
        application.addServices(services.jobRunner(logger: logger))
    }
    return application
}

/// The router with every route and middleware; tests drive it directly.
public func buildRouter(
    services: AppServices,
    configuration: WebConfiguration,
    metrics: HTTPMetrics = HTTPMetrics()
) async throws -> Router<FiduciaRequestContext> {
    let csrfSecret = try await services.sharedSecret(named: "csrf")
    let csrf = CSRFProtection(secret: csrfSecret, random: services.random, secureCookies: configuration.secureCookies)
    let renderer = try await PageRenderer.load(csrf: csrf)
    let site = Site(services: services, renderer: renderer, csrf: csrf, configuration: configuration)

    let router = Router(context: FiduciaRequestContext.self)
    // Outermost first: every request gets an id and metrics; every error becomes a problem.
    router.middlewares.add(ObservabilityMiddleware(metrics: metrics, random: services.random, trustedProxies: configuration.trustedProxies))
    router.middlewares.add(SecurityHeadersMiddleware(strictTransportSecurity: configuration.secureCookies))
    router.middlewares.add(ProblemMiddleware(pages: renderer))
    router.middlewares.add(CanonicalPathMiddleware())
    let operations = try DeclaredOperations(document: OpenAPIDocument.yaml())
    router.middlewares.add(DeclaredMethodsMiddleware(operations: operations))
    router.middlewares.add(BodyLimitMiddleware(configuration: configuration, operations: operations))
    router.middlewares.add(AuthenticationMiddleware(accounts: services.accounts, incidents: services.incidents))
    router.middlewares.add(IdempotencyMiddleware(idempotency: services.idempotency, configuration: configuration, operations: operations))
    router.middlewares.add(LocationHeaderMiddleware())

    OperationsRoutes(services: services, metrics: metrics).register(on: router)
    try SitePages(site: site).register(on: router)
    AccountPages(site: site).register(on: router)
    ExternalSignInPages(site: site).register(on: router)
    EscrowPages(site: site).register(on: router)
    WalletPages(site: site).register(on: router)
    AdminLedgerPages(site: site).register(on: router)
    StaffDecisionPages(site: site).register(on: router)
    TrustPages(site: site).register(on: router)
    IdentityPages(site: site).register(on: router)
    SocialPages(site: site).register(on: router)
    CommunityPages(site: site).register(on: router)
    LearnPages(site: site).register(on: router)
    PrivacyPages(site: site).register(on: router)
    TransparencyPages(site: site).register(on: router)
    IncidentPages(site: site).register(on: router)
    RulesPages(site: site).register(on: router)
    CustomerCarePages(site: site).register(on: router)
    VerificationReviewPages(site: site).register(on: router)
    CertifierPages(site: site).register(on: router)
    MessagePages(site: site).register(on: router)
    DisputePages(site: site).register(on: router)
    ModerationPages(site: site).register(on: router)
    ReportPages(site: site).register(on: router)
    PenaltyPages(site: site).register(on: router)

    let api = FiduciaAPIHandler(services: services)
    // Compact JSON with sorted keys: stable bytes, which idempotent replays and tests rely on.
    let wireFormat = OpenAPIRuntime.Configuration(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
    try api.registerHandlers(on: router, serverURL: URL(string: "/v1")!, configuration: wireFormat)
    return router
}
