/// Why the avatar app cannot start or go on.
public enum AppError: Error, CustomStringConvertible, Sendable {
  /// SDL failed (window, context, video driver); SDL's own message included.
  case sdl(String)
  /// An OpenGL call or capability failed.
  case openGL(String)
  /// A shader did not compile or link: the file and the driver's log.
  case shader(file: String, log: String)
  /// A resource (font, shader folder) is missing.
  case resource(String)

  public var description: String {
    switch self {
    case .sdl(let message): "SDL: \(message)"
    case .openGL(let message): "OpenGL: \(message)"
    case .shader(let file, let log): "shader \(file) failed:\n\(log)"
    case .resource(let message): message
    }
  }
}
