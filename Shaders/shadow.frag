#version 330 core
in vec2 local;
in float darkness;

out vec4 fragColor;

void main() {
  fragColor = vec4(0.0, 0.0, 0.0, darkness * exp(-2.5 * dot(local, local)));
}
