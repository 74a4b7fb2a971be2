import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Incident mode: anyone may ask whether it is on; administrators switch it.
extension FiduciaAPIHandler {
    func getIncident(_ input: Operations.GetIncident.Input) async throws -> Operations.GetIncident.Output {
        .ok(.init(body: .json(.init(try await services.incidents.current()))))
    }

    func startIncident(_ input: Operations.StartIncident.Input) async throws -> Operations.StartIncident.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let (incident, ended) = try await services.incidents.start(reason: body.reason, by: principal)
        var state = Components.Schemas.IncidentState(incident)
        state.sessionsEnded = ended
        return .created(.init(body: .json(state)))
    }

    func endIncident(_ input: Operations.EndIncident.Input) async throws -> Operations.EndIncident.Output {
        .ok(.init(body: .json(.init(try await services.incidents.end(by: principal)))))
    }
}

extension Components.Schemas.IncidentState {
    init(_ incident: Incident?) {
        self.init(active: incident?.isActive ?? false, id: incident?.id.rawValue, reason: incident?.reason, startedAt: incident?.startedAt, endedAt: incident?.endedAt)
    }
}
