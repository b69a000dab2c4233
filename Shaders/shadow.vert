#version 330 core
// Soft contact shadows: one small quad on the floor per shadow.
layout(location = 0) in vec2 corner;      // -1…1
layout(location = 1) in vec4 shadow;      // per instance: x, z, radius (m), darkness

uniform mat4 viewProjection;

out vec2 local;
out float darkness;

void main() {
  local = corner * 2.0;                   // the quad reaches two radii
  darkness = shadow.w;
  vec3 world = vec3(shadow.x + corner.x * 2.0 * shadow.z, 0.002, shadow.y + corner.y * 2.0 * shadow.z);
  gl_Position = viewProjection * vec4(world, 1.0);
}
