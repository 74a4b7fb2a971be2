import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Accounts (A1): sign-up, sessions, the current user, API clients.
extension FiduciaAPIHandler {
    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let request = AccountRules.NewUser(
            email: body.email,
            password: body.password,
            displayName: body.displayName,
            roles: body.roles.map { Set($0.map(\.domain)) },
            externalID: body.externalId
        )
        let user = try await services.accounts.signUp(request, invitationCode: body.invitationCode, privacyNoticeVersion: body.privacyNoticeVersion, by: principal)
        // The caller just sent the private fields, so they get them back, even when anonymous.
        let creator = Principal.user(user, session: SessionID("ses_none"))
        return .created(.init(headers: .init(location: "/v1/users/\(user.id)"), body: .json(.init(user, visibleTo: creator))))
    }

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await services.accounts.listUsers(role: input.query.role?.domain, page: page, by: principal)
        let viewer = principal
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, visibleTo: viewer) }, nextCursor: result.nextCursor))))
    }

    func setUserRoles(_ input: Operations.SetUserRoles.Input) async throws -> Operations.SetUserRoles.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        guard Set(body.roles).count == body.roles.count else { throw ValidationError(field: "roles", "Name each role once.") }
        let user = try await services.accounts.setRoles(of: UserID(input.path.userId), to: Set(body.roles.map(\.domain)), by: principal)
        return .ok(.init(body: .json(.init(user, visibleTo: principal))))
    }

    func getCurrentUser(_ input: Operations.GetCurrentUser.Input) async throws -> Operations.GetCurrentUser.Output {
        let user = try principal.requireUser()
        return .ok(.init(body: .json(.init(user, visibleTo: principal))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let user = try await services.accounts.user(UserID(input.path.userId))
        return .ok(.init(body: .json(.init(user, visibleTo: principal))))
    }

    func createSession(_ input: Operations.CreateSession.Input) async throws -> Operations.CreateSession.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let (session, token, user) = try await services.accounts.logIn(email: body.email, password: body.password, kind: .bearer, from: RequestScope.current.clientAddress)
        let created = Principal.user(user, session: session.id)
        return .created(.init(body: .json(.init(token: token, expiresAt: session.expiresAt, user: .init(user, visibleTo: created)))))
    }

    func deleteCurrentSession(_ input: Operations.DeleteCurrentSession.Input) async throws -> Operations.DeleteCurrentSession.Output {
        switch principal {
        case .user(_, let session):
            try await services.accounts.logOut(session)
            return .noContent(.init())
        case .apiClient:
            throw AccessError.forbidden("An API key is not a session. An administrator revokes API clients.")
        case .anonymous:
            throw AccessError.authenticationRequired
        }
    }

    func createApiClient(_ input: Operations.CreateApiClient.Input) async throws -> Operations.CreateApiClient.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let (client, key) = try await services.accounts.createAPIClient(name: body.name, by: principal)
        return .created(.init(body: .json(.init(id: client.id.rawValue, name: client.name, apiKey: key, createdAt: client.createdAt))))
    }
}
