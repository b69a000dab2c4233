#version 330 core
// The floor itself is one flat colour; grid lines and shadows are drawn over it as their own
// small primitives, so a software renderer pays only for the pixels they cover.
in vec3 worldPosition;

uniform vec3 floorColor;

out vec4 fragColor;

void main() {
  fragColor = vec4(floorColor, 1.0);
}
