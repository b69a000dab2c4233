// Types, constants and PFNGL…PROC pointer types of the OpenGL core profile. Entry points are
// loaded at run time through SDL_GL_GetProcAddress (see GLFunctions.swift), never linked.
#include <GL/glcorearb.h>
