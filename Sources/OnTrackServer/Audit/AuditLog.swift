import Logging

/// Who read, exported or changed which patient's data or exercise, and every failed
/// authentication: one structured line each at `info` on the `ontrack.audit` logger. A token
/// appears only as its public id, never as the token.
///
/// ```
/// … info ontrack.audit : action=report.read outcome=ok patient=ann role=therapist session=… token=3f2a…
/// ```
public struct AuditLog: Sendable {
  let logger: Logger

  public init(logger: Logger) {
    self.logger = logger
  }

  /// What was done.
  public enum Action: String, Sendable {
    case sessionCreate = "session.create"
    case sessionRead = "session.read"
    case sessionList = "session.list"
    case sessionFinish = "session.finish"
    case reportRead = "report.read"
    case recordingExport = "recording.export"
    case streamOpen = "stream.open"
    case watchOpen = "watch.open"
    case devicePair = "device.pair"
    case exerciseAdd = "exercise.add"
    case exerciseUpdate = "exercise.update"
    case exerciseDelete = "exercise.delete"
    case exerciseExport = "exercise.export"
    case tokenCreate = "token.create"
    case tokenList = "token.list"
    case tokenRevoke = "token.revoke"
    case programmeCreate = "programme.create"
    case programmeUpdate = "programme.update"
    case programmeRead = "programme.read"
    case dashboardRead = "dashboard.read"
  }

  /// Records `action` by `identity` on a patient's data or an exercise.
  public func record(
    _ action: Action, by identity: Identity, patient: String? = nil, session: String? = nil,
    exercise: String? = nil, outcome: String = "ok"
  ) {
    var metadata: Logger.Metadata = [
      "action": "\(action.rawValue)", "token": "\(identity.tokenID)",
      "role": "\(identity.role.rawValue)", "holder": "\(identity.name)", "outcome": "\(outcome)",
    ]
    if let patient { metadata["patient"] = "\(patient)" }
    if let session { metadata["session"] = "\(session)" }
    if let exercise { metadata["exercise"] = "\(exercise)" }
    logger.info("audit", metadata: metadata)
  }

  /// Records a request refused for its token.
  public func authenticationFailed(reason: String, path: String) {
    logger.info(
      "audit",
      metadata: [
        "action": "auth.failed", "outcome": "refused", "reason": "\(reason)",
        "path": "\(path.prefix(120))",
      ])
  }
}
