#version 330 core
// Grid lines, fading out with distance from the avatars.
in vec3 worldPosition;
in float lineAlpha;

uniform vec3 lineColor;

out vec4 fragColor;

void main() {
  fragColor = vec4(lineColor, lineAlpha);
}
