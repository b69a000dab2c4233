// libFuzzer target for the HTTP request bodies of the server's API (see DEVELOPERS.md,
// "Fuzzing"): each body type decoded as the server decodes it, and an exercise upload taken
// through the same checks the server makes before storing it (definition, reference BVH,
// a scorable exercise).
//
// The first byte picks the body. Any input must be refused with an error or give a value that
// encodes and decodes again; a crash, a hang or unbounded memory is a bug.
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring

func roundTrips<T: Codable>(_ type: T.Type, _ data: Data) {
  guard let value = try? JSONDecoder().decode(type, from: data) else { return }
  let again = try? JSONEncoder().encode(value)
  precondition(again.flatMap { try? JSONDecoder().decode(type, from: $0) } != nil)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIBodies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let body = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
  switch data[0] % 6 {
  case 0: roundTrips(CreateSessionRequest.self, body)
  case 1: roundTrips(TokenRequest.self, body)
  case 2: roundTrips(StreamFrame.self, body)
  case 3: roundTrips(ServerMessage.self, body)
  default:
    guard let upload = try? JSONDecoder().decode(ExerciseUpload.self, from: body),
      let definition = try? upload.decodedDefinition()
    else { return 0 }
    guard let text = upload.reference,
      let clip = try? BVHReader().read(text: text, fileName: "upload")
    else { return 0 }
    if let exercise = try? Exercise(definition: definition, referenceClip: clip, file: "upload") {
      precondition(exercise.reference.count > 0)
    }
  }
  return 0
}
