#version 330 core
// Soft studio lighting: sky/ground hemisphere, one key light, a rim to separate the figure.
in vec3 worldPosition;
in vec3 worldNormal;
in vec4 baseColor;

uniform vec3 lightDirection;   // towards the light, normalised
uniform vec3 cameraPosition;

out vec4 fragColor;

void main() {
  vec3 n = normalize(worldNormal);
  vec3 toCamera = normalize(cameraPosition - worldPosition);
  // The inside of a limb seen through its end faces away: light it as if it faced us.
  if (dot(n, toCamera) < 0.0) n = -n;
  float key = max(dot(n, lightDirection), 0.0);
  float hemisphere = 0.55 + 0.45 * n.y;
  float rim = pow(1.0 - max(dot(n, toCamera), 0.0), 3.0);
  // A generous ambient floor keeps the error colours readable on the side away from the light.
  vec3 lit = baseColor.rgb * (0.40 + 0.25 * hemisphere + 0.55 * key) + vec3(0.18) * rim;
  fragColor = vec4(lit, baseColor.a);
}
