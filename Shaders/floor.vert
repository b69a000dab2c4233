#version 330 core
// The ground quad at y = 0, and the grid lines (same vertex layout: position, alpha).
layout(location = 0) in vec3 position;
layout(location = 1) in float alpha;

uniform mat4 viewProjection;

out vec3 worldPosition;
out float lineAlpha;

void main() {
  worldPosition = position;
  lineAlpha = alpha;
  gl_Position = viewProjection * vec4(position, 1.0);
}
