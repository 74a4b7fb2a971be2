import FiduciaDomain
import Foundation
import Testing

@Suite("Account rules")
struct AccountRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ roles: Set<Role>, client: APIClientID? = nil) -> User {
        User(id: UserID("usr_1"), email: "x@example.com", displayName: "X", roles: roles, createdAt: now, createdByClientID: client)
    }

    @Test func normalizesEmail() {
        #expect(AccountRules.normalizeEmail("  Ann@Example.COM \n") == "ann@example.com")
    }

    @Test(arguments: ["", "ann", "ann@", "@example.com", "ann@example", "ann@.com", "ann@example.", "a nn@example.com", "a@b@c.com"])
    func rejectsImplausibleEmail(_ email: String) {
        #expect(!AccountRules.isPlausibleEmail(email))
    }

    @Test func acceptsPlausibleEmail() {
        #expect(AccountRules.isPlausibleEmail("ann.lee+shop@example.co.uk"))
    }

    @Test func anonymousSignUpNeedsPasswordAndSelfServiceRoles() throws {
        let valid = try AccountRules.validate(.init(email: "Ann@Example.com", password: "correct horse", displayName: " Ann ", roles: nil), by: .anonymous)
        #expect(valid.email == "ann@example.com")
        #expect(valid.displayName == "Ann")
        #expect(valid.roles == [.buyer])
        #expect(valid.createdByClientID == nil)

        // Who is asking decides these, not the request's shape: 422 rule-not-met, not 400.
        #expect(throws: RuleNotMet.self) {
            try AccountRules.validate(.init(email: "ann@example.com", password: nil, displayName: "Ann", roles: nil), by: .anonymous)
        }
        let error = #expect(throws: RuleNotMet.self) {
            try AccountRules.validate(.init(email: "ann@example.com", password: "correct horse", displayName: "Ann", roles: [.admin]), by: .anonymous)
        }
        #expect(error?.fieldErrors.map(\.field) == ["roles"])
    }

    @Test func reportsEveryInvalidFieldAtOnce() {
        let error = #expect(throws: ValidationError.self) {
            try AccountRules.validate(.init(email: "nope", password: "short", displayName: "", roles: []), by: .anonymous)
        }
        #expect(Set(error?.fieldErrors.map(\.field) ?? []) == ["email", "password", "displayName", "roles"])
    }

    @Test func passwordLengthIsCountedInCharactersAsTheDocumentCounts() {
        // 200 three-byte characters are 600 bytes, far over bcrypt's 72: the hasher digests them first.
        #expect(throws: Never.self) {
            try AccountRules.validate(.init(email: "a@b.co", password: String(repeating: "密", count: 200), displayName: "A", roles: nil), by: .anonymous)
        }
        #expect(throws: ValidationError.self) {
            try AccountRules.validate(.init(email: "a@b.co", password: String(repeating: "密", count: 201), displayName: "A", roles: nil), by: .anonymous)
        }
        #expect(throws: ValidationError.self) {
            try AccountRules.validate(.init(email: "a@b.co", password: String(repeating: "密", count: 9), displayName: "A", roles: nil), by: .anonymous)
        }
    }

    @Test func onlyAdministratorsGrantStaffRoles() throws {
        let admin = Principal.user(user([.admin]), session: SessionID("ses_1"))
        let valid = try AccountRules.validate(.init(email: "m@b.co", password: "correct horse", displayName: "M", roles: [.moderator, .certifier]), by: admin)
        #expect(valid.roles == [.moderator, .certifier])

        let seller = Principal.user(user([.seller]), session: SessionID("ses_1"))
        #expect(throws: RuleNotMet.self) {
            try AccountRules.validate(.init(email: "m@b.co", password: "correct horse", displayName: "M", roles: [.moderator]), by: seller)
        }
    }

    @Test func apiClientsMayOmitPasswordAndSetExternalID() throws {
        let client = APIClient(id: APIClientID("cli_1"), name: "Shop", createdAt: now)
        let valid = try AccountRules.validate(
            .init(email: "s@b.co", password: nil, displayName: "S", roles: [.seller], externalID: " shop-42 "),
            by: .apiClient(client, actingFor: nil)
        )
        #expect(valid.password == nil)
        #expect(valid.externalID == "shop-42")
        #expect(valid.createdByClientID == client.id)

        #expect(throws: RuleNotMet.self) {
            try AccountRules.validate(.init(email: "s@b.co", password: "correct horse", displayName: "S", roles: nil, externalID: "x"), by: .anonymous)
        }
    }
}

@Suite("Principal")
struct PrincipalTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ id: String, _ roles: Set<Role>, client: APIClientID? = nil) -> User {
        User(id: UserID(id), email: "\(id)@example.com", displayName: id, roles: roles, createdAt: now, createdByClientID: client)
    }

    @Test func privateDataIsForSelfStaffAndCreatingClient() {
        let ann = user("usr_ann", [.buyer], client: APIClientID("cli_shop"))
        let bob = user("usr_bob", [.buyer])
        let moderator = user("usr_mod", [.moderator])
        let shop = APIClient(id: APIClientID("cli_shop"), name: "Shop", createdAt: now)
        let other = APIClient(id: APIClientID("cli_other"), name: "Other", createdAt: now)

        #expect(Principal.user(ann, session: SessionID("s")).maySeePrivateData(of: ann))
        #expect(!Principal.user(bob, session: SessionID("s")).maySeePrivateData(of: ann))
        #expect(Principal.user(moderator, session: SessionID("s")).maySeePrivateData(of: ann))
        #expect(!Principal.anonymous.maySeePrivateData(of: ann))
        #expect(Principal.apiClient(shop, actingFor: nil).maySeePrivateData(of: ann))
        #expect(!Principal.apiClient(other, actingFor: nil).maySeePrivateData(of: ann))
        #expect(!Principal.apiClient(shop, actingFor: nil).maySeePrivateData(of: bob))
    }

    @Test func requireRoleNamesTheMissingRole() {
        let buyer = Principal.user(user("usr_1", [.buyer]), session: SessionID("s"))
        #expect(throws: AccessError.forbidden("This needs the role admin or moderator.")) {
            try buyer.requireRole(.admin, .moderator)
        }
        #expect(throws: AccessError.authenticationRequired) {
            try Principal.anonymous.requireUser()
        }
    }

    @Test func scopeKeysSeparateCallers() {
        let ann = user("usr_ann", [.buyer])
        let shop = APIClient(id: APIClientID("cli_shop"), name: "Shop", createdAt: now)
        let keys = [
            Principal.anonymous.scopeKey,
            Principal.user(ann, session: SessionID("s")).scopeKey,
            Principal.apiClient(shop, actingFor: nil).scopeKey,
            Principal.apiClient(shop, actingFor: ann).scopeKey,
        ]
        #expect(Set(keys).count == keys.count)
    }
}
