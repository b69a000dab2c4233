import CGLCore
import CSDL2

/// The OpenGL 3.3 core entry points the renderer uses, loaded at run time with
/// `SDL_GL_GetProcAddress` (nothing is linked against libGL). Every pointer is checked at
/// load, before it is cast to its (non-optional) C function type.
struct GLFunctions {
  var viewport: PFNGLVIEWPORTPROC
  var clearColor: PFNGLCLEARCOLORPROC
  var clear: PFNGLCLEARPROC
  var enable: PFNGLENABLEPROC
  var disable: PFNGLDISABLEPROC
  var blendFunc: PFNGLBLENDFUNCPROC
  var depthMask: PFNGLDEPTHMASKPROC
  var depthFunc: PFNGLDEPTHFUNCPROC
  var cullFace: PFNGLCULLFACEPROC
  var frontFace: PFNGLFRONTFACEPROC
  var createShader: PFNGLCREATESHADERPROC
  var shaderSource: PFNGLSHADERSOURCEPROC
  var compileShader: PFNGLCOMPILESHADERPROC
  var getShaderiv: PFNGLGETSHADERIVPROC
  var getShaderInfoLog: PFNGLGETSHADERINFOLOGPROC
  var deleteShader: PFNGLDELETESHADERPROC
  var createProgram: PFNGLCREATEPROGRAMPROC
  var attachShader: PFNGLATTACHSHADERPROC
  var linkProgram: PFNGLLINKPROGRAMPROC
  var getProgramiv: PFNGLGETPROGRAMIVPROC
  var getProgramInfoLog: PFNGLGETPROGRAMINFOLOGPROC
  var deleteProgram: PFNGLDELETEPROGRAMPROC
  var useProgram: PFNGLUSEPROGRAMPROC
  var getUniformLocation: PFNGLGETUNIFORMLOCATIONPROC
  var uniformMatrix4fv: PFNGLUNIFORMMATRIX4FVPROC
  var uniform1f: PFNGLUNIFORM1FPROC
  var uniform1i: PFNGLUNIFORM1IPROC
  var uniform2f: PFNGLUNIFORM2FPROC
  var uniform3f: PFNGLUNIFORM3FPROC
  var uniform4f: PFNGLUNIFORM4FPROC
  var uniform3fv: PFNGLUNIFORM3FVPROC
  var uniform4fv: PFNGLUNIFORM4FVPROC
  var genVertexArrays: PFNGLGENVERTEXARRAYSPROC
  var bindVertexArray: PFNGLBINDVERTEXARRAYPROC
  var deleteVertexArrays: PFNGLDELETEVERTEXARRAYSPROC
  var genBuffers: PFNGLGENBUFFERSPROC
  var bindBuffer: PFNGLBINDBUFFERPROC
  var bufferData: PFNGLBUFFERDATAPROC
  var bufferSubData: PFNGLBUFFERSUBDATAPROC
  var deleteBuffers: PFNGLDELETEBUFFERSPROC
  var vertexAttribPointer: PFNGLVERTEXATTRIBPOINTERPROC
  var enableVertexAttribArray: PFNGLENABLEVERTEXATTRIBARRAYPROC
  var vertexAttribDivisor: PFNGLVERTEXATTRIBDIVISORPROC
  var drawArrays: PFNGLDRAWARRAYSPROC
  var drawElements: PFNGLDRAWELEMENTSPROC
  var drawArraysInstanced: PFNGLDRAWARRAYSINSTANCEDPROC
  var drawElementsInstanced: PFNGLDRAWELEMENTSINSTANCEDPROC
  var genTextures: PFNGLGENTEXTURESPROC
  var bindTexture: PFNGLBINDTEXTUREPROC
  var deleteTextures: PFNGLDELETETEXTURESPROC
  var texImage2D: PFNGLTEXIMAGE2DPROC
  var texSubImage2D: PFNGLTEXSUBIMAGE2DPROC
  var texParameteri: PFNGLTEXPARAMETERIPROC
  var generateMipmap: PFNGLGENERATEMIPMAPPROC
  var activeTexture: PFNGLACTIVETEXTUREPROC
  var pixelStorei: PFNGLPIXELSTOREIPROC
  var readPixels: PFNGLREADPIXELSPROC
  var genFramebuffers: PFNGLGENFRAMEBUFFERSPROC
  var bindFramebuffer: PFNGLBINDFRAMEBUFFERPROC
  var deleteFramebuffers: PFNGLDELETEFRAMEBUFFERSPROC
  var framebufferTexture2D: PFNGLFRAMEBUFFERTEXTURE2DPROC
  var checkFramebufferStatus: PFNGLCHECKFRAMEBUFFERSTATUSPROC
  var genRenderbuffers: PFNGLGENRENDERBUFFERSPROC
  var bindRenderbuffer: PFNGLBINDRENDERBUFFERPROC
  var deleteRenderbuffers: PFNGLDELETERENDERBUFFERSPROC
  var renderbufferStorage: PFNGLRENDERBUFFERSTORAGEPROC
  var framebufferRenderbuffer: PFNGLFRAMEBUFFERRENDERBUFFERPROC
  var getError: PFNGLGETERRORPROC
  var getString: PFNGLGETSTRINGPROC
  var finish: PFNGLFINISHPROC

  /// Loads every entry point from the current context.
  ///
  /// - Throws: `AppError.openGL` naming the first missing function.
  static func load() throws(AppError) -> GLFunctions {
    func proc<T>(_ name: String, _ type: T.Type) throws(AppError) -> T {
      guard let pointer = SDL_GL_GetProcAddress(name) else {
        throw .openGL("the OpenGL function \(name) is not available")
      }
      return unsafeBitCast(pointer, to: T.self)
    }
    return GLFunctions(
      viewport: try proc("glViewport", PFNGLVIEWPORTPROC.self),
      clearColor: try proc("glClearColor", PFNGLCLEARCOLORPROC.self),
      clear: try proc("glClear", PFNGLCLEARPROC.self),
      enable: try proc("glEnable", PFNGLENABLEPROC.self),
      disable: try proc("glDisable", PFNGLDISABLEPROC.self),
      blendFunc: try proc("glBlendFunc", PFNGLBLENDFUNCPROC.self),
      depthMask: try proc("glDepthMask", PFNGLDEPTHMASKPROC.self),
      depthFunc: try proc("glDepthFunc", PFNGLDEPTHFUNCPROC.self),
      cullFace: try proc("glCullFace", PFNGLCULLFACEPROC.self),
      frontFace: try proc("glFrontFace", PFNGLFRONTFACEPROC.self),
      createShader: try proc("glCreateShader", PFNGLCREATESHADERPROC.self),
      shaderSource: try proc("glShaderSource", PFNGLSHADERSOURCEPROC.self),
      compileShader: try proc("glCompileShader", PFNGLCOMPILESHADERPROC.self),
      getShaderiv: try proc("glGetShaderiv", PFNGLGETSHADERIVPROC.self),
      getShaderInfoLog: try proc("glGetShaderInfoLog", PFNGLGETSHADERINFOLOGPROC.self),
      deleteShader: try proc("glDeleteShader", PFNGLDELETESHADERPROC.self),
      createProgram: try proc("glCreateProgram", PFNGLCREATEPROGRAMPROC.self),
      attachShader: try proc("glAttachShader", PFNGLATTACHSHADERPROC.self),
      linkProgram: try proc("glLinkProgram", PFNGLLINKPROGRAMPROC.self),
      getProgramiv: try proc("glGetProgramiv", PFNGLGETPROGRAMIVPROC.self),
      getProgramInfoLog: try proc("glGetProgramInfoLog", PFNGLGETPROGRAMINFOLOGPROC.self),
      deleteProgram: try proc("glDeleteProgram", PFNGLDELETEPROGRAMPROC.self),
      useProgram: try proc("glUseProgram", PFNGLUSEPROGRAMPROC.self),
      getUniformLocation: try proc("glGetUniformLocation", PFNGLGETUNIFORMLOCATIONPROC.self),
      uniformMatrix4fv: try proc("glUniformMatrix4fv", PFNGLUNIFORMMATRIX4FVPROC.self),
      uniform1f: try proc("glUniform1f", PFNGLUNIFORM1FPROC.self),
      uniform1i: try proc("glUniform1i", PFNGLUNIFORM1IPROC.self),
      uniform2f: try proc("glUniform2f", PFNGLUNIFORM2FPROC.self),
      uniform3f: try proc("glUniform3f", PFNGLUNIFORM3FPROC.self),
      uniform4f: try proc("glUniform4f", PFNGLUNIFORM4FPROC.self),
      uniform3fv: try proc("glUniform3fv", PFNGLUNIFORM3FVPROC.self),
      uniform4fv: try proc("glUniform4fv", PFNGLUNIFORM4FVPROC.self),
      genVertexArrays: try proc("glGenVertexArrays", PFNGLGENVERTEXARRAYSPROC.self),
      bindVertexArray: try proc("glBindVertexArray", PFNGLBINDVERTEXARRAYPROC.self),
      deleteVertexArrays: try proc("glDeleteVertexArrays", PFNGLDELETEVERTEXARRAYSPROC.self),
      genBuffers: try proc("glGenBuffers", PFNGLGENBUFFERSPROC.self),
      bindBuffer: try proc("glBindBuffer", PFNGLBINDBUFFERPROC.self),
      bufferData: try proc("glBufferData", PFNGLBUFFERDATAPROC.self),
      bufferSubData: try proc("glBufferSubData", PFNGLBUFFERSUBDATAPROC.self),
      deleteBuffers: try proc("glDeleteBuffers", PFNGLDELETEBUFFERSPROC.self),
      vertexAttribPointer: try proc("glVertexAttribPointer", PFNGLVERTEXATTRIBPOINTERPROC.self),
      enableVertexAttribArray: try proc(
        "glEnableVertexAttribArray", PFNGLENABLEVERTEXATTRIBARRAYPROC.self),
      vertexAttribDivisor: try proc("glVertexAttribDivisor", PFNGLVERTEXATTRIBDIVISORPROC.self),
      drawArrays: try proc("glDrawArrays", PFNGLDRAWARRAYSPROC.self),
      drawElements: try proc("glDrawElements", PFNGLDRAWELEMENTSPROC.self),
      drawArraysInstanced: try proc("glDrawArraysInstanced", PFNGLDRAWARRAYSINSTANCEDPROC.self),
      drawElementsInstanced: try proc(
        "glDrawElementsInstanced", PFNGLDRAWELEMENTSINSTANCEDPROC.self),
      genTextures: try proc("glGenTextures", PFNGLGENTEXTURESPROC.self),
      bindTexture: try proc("glBindTexture", PFNGLBINDTEXTUREPROC.self),
      deleteTextures: try proc("glDeleteTextures", PFNGLDELETETEXTURESPROC.self),
      texImage2D: try proc("glTexImage2D", PFNGLTEXIMAGE2DPROC.self),
      texSubImage2D: try proc("glTexSubImage2D", PFNGLTEXSUBIMAGE2DPROC.self),
      texParameteri: try proc("glTexParameteri", PFNGLTEXPARAMETERIPROC.self),
      generateMipmap: try proc("glGenerateMipmap", PFNGLGENERATEMIPMAPPROC.self),
      activeTexture: try proc("glActiveTexture", PFNGLACTIVETEXTUREPROC.self),
      pixelStorei: try proc("glPixelStorei", PFNGLPIXELSTOREIPROC.self),
      readPixels: try proc("glReadPixels", PFNGLREADPIXELSPROC.self),
      genFramebuffers: try proc("glGenFramebuffers", PFNGLGENFRAMEBUFFERSPROC.self),
      bindFramebuffer: try proc("glBindFramebuffer", PFNGLBINDFRAMEBUFFERPROC.self),
      deleteFramebuffers: try proc("glDeleteFramebuffers", PFNGLDELETEFRAMEBUFFERSPROC.self),
      framebufferTexture2D: try proc("glFramebufferTexture2D", PFNGLFRAMEBUFFERTEXTURE2DPROC.self),
      checkFramebufferStatus: try proc(
        "glCheckFramebufferStatus", PFNGLCHECKFRAMEBUFFERSTATUSPROC.self),
      genRenderbuffers: try proc("glGenRenderbuffers", PFNGLGENRENDERBUFFERSPROC.self),
      bindRenderbuffer: try proc("glBindRenderbuffer", PFNGLBINDRENDERBUFFERPROC.self),
      deleteRenderbuffers: try proc("glDeleteRenderbuffers", PFNGLDELETERENDERBUFFERSPROC.self),
      renderbufferStorage: try proc("glRenderbufferStorage", PFNGLRENDERBUFFERSTORAGEPROC.self),
      framebufferRenderbuffer: try proc(
        "glFramebufferRenderbuffer", PFNGLFRAMEBUFFERRENDERBUFFERPROC.self),
      getError: try proc("glGetError", PFNGLGETERRORPROC.self),
      getString: try proc("glGetString", PFNGLGETSTRINGPROC.self),
      finish: try proc("glFinish", PFNGLFINISHPROC.self))
  }
}
