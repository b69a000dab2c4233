import Foundation
import OnTrackFormats

/// Finds the app's shaders and assets (`InstallLocation`, the lookup the server and the
/// command line use too).
public enum Resources {
  public static func root() throws(AppError) -> URL {
    guard let root = InstallLocation.root(containing: "Shaders/mannequin.vert") else {
      throw .resource(
        "cannot find the Shaders/ and Assets/ folders (run from the repository, or set ONTRACK_HOME)"
      )
    }
    return root
  }
}
