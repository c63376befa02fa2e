// One error type for `lantern demo` and `lantern sample-function`: a code to switch on and a message
// that says what went wrong and what to do about it.

/// An error from the demo, the sample function or the recording APM Server.
struct DemoError: Error, CustomStringConvertible, Equatable {
    /// What kind of failure this is.
    enum Code: String, Sendable {
        case badOption
        /// `--extension` does not name an executable.
        case badExtension
        case portUnavailable
        case fileUnwritable
        case childFailed
        case emulatorNotReady
        case runtimeAPI
        case missingEnvironment
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}
