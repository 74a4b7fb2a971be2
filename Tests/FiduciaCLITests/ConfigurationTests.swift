import FiduciaPersistence
import FiduciaServices
import Foundation
import Testing

@testable import FiduciaCLI

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaultsNeedNoConfigurationAtAll() throws {
        let configuration = try Configuration.resolve(environment: [:])
        #expect(configuration.database == .sqlite(path: "fiducia-data/fiducia.sqlite"))
        #expect(configuration.web.host == "127.0.0.1")
        #expect(configuration.web.port == 8080)
        #expect(configuration.settings.bcryptCost == 12)
        #expect(configuration.settings.publicURL == "http://127.0.0.1:8080")
        #expect(configuration.settings.signInProviders.isEmpty)
    }

    @Test func thePublicAddressFollowsThePortUnlessGiven() throws {
        #expect(try Configuration.resolve(environment: ["FIDUCIA_PORT": "9300"]).settings.publicURL == "http://127.0.0.1:9300")
        #expect(try Configuration.resolve(environment: ["FIDUCIA_HOST": "0.0.0.0", "FIDUCIA_PORT": "9300"]).settings.publicURL == "http://127.0.0.1:9300")
        #expect(try Configuration.resolve(environment: ["FIDUCIA_PUBLIC_URL": "https://trust.example/"]).settings.publicURL == "https://trust.example")
    }

    @Test func signInProvidersAreReadAndChecked() throws {
        let providers = try Configuration.resolve(environment: [
            "FIDUCIA_SIGN_IN_PROVIDERS": #"[{"id":"acme","name":"Acme","issuer":"https://id.acme.example","clientId":"c1","clientSecret":"s1"}]"#
        ]).settings.signInProviders
        #expect(providers == [SignInProvider(id: "acme", name: "Acme", issuer: "https://id.acme.example", clientID: "c1", clientSecret: "s1")])
        for bad in [
            "not json",
            #"[{"id":"acme","name":"Acme","issuer":"http://id.acme.example","clientId":"c1","clientSecret":"s1"}]"#,  // plain http off loopback
            #"[{"id":"a/b","name":"Acme","issuer":"https://id.acme.example","clientId":"c1","clientSecret":"s1"}]"#,
            #"[{"id":"a","name":"A","issuer":"https://a.example","clientId":"c","clientSecret":"s"},{"id":"a","name":"B","issuer":"https://b.example","clientId":"c","clientSecret":"s"}]"#,
        ] {
            #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: ["FIDUCIA_SIGN_IN_PROVIDERS": bad]) }
        }
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-\(UUID().uuidString).conf")
        try """
            # a comment
            FIDUCIA_PORT = 9000
            FIDUCIA_HOST="0.0.0.0"
            FIDUCIA_DATABASE_URL=postgres://app:pw@db:5432/fiducia?sslmode=disable
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let fromFile = try Configuration.resolve(environment: [:], configFile: file.path)
        #expect(fromFile.web.port == 9000)
        #expect(fromFile.web.host == "0.0.0.0")
        #expect(fromFile.database == .postgres(.init(host: "db", username: "app", password: "pw", database: "fiducia", tls: .disable)))

        let fromEnvironment = try Configuration.resolve(environment: ["FIDUCIA_PORT": "9100"], configFile: file.path)
        #expect(fromEnvironment.web.port == 9100)
        let fromFlag = try Configuration.resolve(environment: ["FIDUCIA_PORT": "9100"], configFile: file.path, overrides: ["FIDUCIA_PORT": "9200"])
        #expect(fromFlag.web.port == 9200)
    }

    @Test func badValuesAreRefusedWithTheirName() {
        #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: ["FIDUCIA_PORT": "eighty"]) }
        #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: ["FIDUCIA_BCRYPT_COST": "2"]) }
        #expect(throws: DatabaseLocationError.self) { try Configuration.resolve(environment: ["FIDUCIA_DATABASE_URL": "mysql://x@y/z"]) }
        #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: [:], overrides: ["FIDUCIA_NOPE": "1"]) }
    }

    @Test func theREADMEListsEverySettingAsTheCodeDefinesIt() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        for key in Configuration.keys {
            #expect(text.contains(key.markdownRow), "README is missing or out of date for \(key.name); paste `fiducia config --markdown`")
        }
    }
}
