#version 330 core
in vec2 uv;
in vec4 tint;

uniform sampler2D glyphs;   // single channel: glyph coverage

out vec4 fragColor;

void main() {
  float coverage = uv.x < 0.0 ? 1.0 : texture(glyphs, uv).r;
  fragColor = vec4(tint.rgb, tint.a * coverage);
}
