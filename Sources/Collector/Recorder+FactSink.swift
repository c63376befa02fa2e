import LanternStore

extension Recorder: FactSink {}
