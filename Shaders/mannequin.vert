#version 330 core
// Instanced limb capsules (unit cylinders) and joint spheres of the mannequin.
layout(location = 0) in vec3 position;
layout(location = 1) in vec3 normal;
layout(location = 2) in vec4 model0;   // per instance: model matrix columns
layout(location = 3) in vec4 model1;
layout(location = 4) in vec4 model2;
layout(location = 5) in vec4 model3;
layout(location = 6) in vec4 color;    // per instance: RGBA (alpha < 1 for the ghost)

uniform mat4 viewProjection;

out vec3 worldPosition;
out vec3 worldNormal;
out vec4 baseColor;

void main() {
  mat4 model = mat4(model0, model1, model2, model3);
  vec4 world = model * vec4(position, 1.0);
  worldPosition = world.xyz;
  // Cylinders are scaled (r, length, r); their side normals have no Y part, so normalising
  // the linearly transformed normal is exact for them and for the uniformly scaled spheres.
  worldNormal = normalize(mat3(model) * normal);
  baseColor = color;
  gl_Position = viewProjection * world;
}
