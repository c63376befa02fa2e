import LanternStore
import ArgumentParser

/// `lantern`: the human side of Lantern.
@main
struct Lantern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lantern",
        abstract: "See inside an AWS Lambda execution environment, live and afterwards.",
        version: LanternVersion.current,
        subcommands: [
            Query.self,
            Import.self,
            Demo.self,
            SampleFunction.self,
            Dash.self,
            Emulate.self,
            Collect.self,
        ]
    )
}
