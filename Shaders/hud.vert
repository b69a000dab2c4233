#version 330 core
// Screen-space quads for the HUD: panels, bars and glyphs. Pixel coordinates, origin top left.
layout(location = 0) in vec2 position;
layout(location = 1) in vec2 texCoord;   // x < 0: a solid quad, no texture
layout(location = 2) in vec4 color;

uniform vec2 screenSize;

out vec2 uv;
out vec4 tint;

void main() {
  uv = texCoord;
  tint = color;
  vec2 ndc = vec2(position.x / screenSize.x * 2.0 - 1.0, 1.0 - position.y / screenSize.y * 2.0);
  gl_Position = vec4(ndc, 0.0, 1.0);
}
