#!/usr/bin/env python3
"""Writes Assets/examples/squat_demo.bvh: two bodyweight squats, made by hand (procedural).

The clip is OnTrack's own (no recorded data): a 23-joint figure in centimetres, Y up, facing +Z,
left on +X, 30 fps, 7 s. The feet stay planted: the pelvis height and fore-aft position follow
from the thigh and shank angles (thigh 43 cm, shank 42 cm). Per repetition (3 s) the hips flex
to 85 deg, the knees to 115 deg, the ankles dorsiflex 30 deg, the trunk leans 30 deg and the
arms reach forward to 80 deg, along a smooth (1 - cos) profile. Standard library only.

    python3 Scripts/make-example-clip.py [OUT.bvh]
"""
import math
import sys

FPS = 30
SECONDS = 7.0
THIGH, SHANK, ANKLE_HEIGHT = 43.0, 42.0, 8.0

# name, parent, offset (cm), channels
JOINTS = [
    ("Hips", None, (0, 0, 0), "Xposition Yposition Zposition Zrotation Xrotation Yrotation"),
    ("LeftUpLeg", "Hips", (9, -5, 0), "Zrotation Xrotation Yrotation"),
    ("LeftLeg", "LeftUpLeg", (0, -THIGH, 0), "Zrotation Xrotation Yrotation"),
    ("LeftFoot", "LeftLeg", (0, -SHANK, 0), "Zrotation Xrotation Yrotation"),
    ("LeftToeBase", "LeftFoot", (0, -6, 12), "Zrotation Xrotation Yrotation"),
    ("RightUpLeg", "Hips", (-9, -5, 0), "Zrotation Xrotation Yrotation"),
    ("RightLeg", "RightUpLeg", (0, -THIGH, 0), "Zrotation Xrotation Yrotation"),
    ("RightFoot", "RightLeg", (0, -SHANK, 0), "Zrotation Xrotation Yrotation"),
    ("RightToeBase", "RightFoot", (0, -6, 12), "Zrotation Xrotation Yrotation"),
    ("Spine", "Hips", (0, 10, 0), "Zrotation Xrotation Yrotation"),
    ("Chest", "Spine", (0, 16, 0), "Zrotation Xrotation Yrotation"),
    ("Neck", "Chest", (0, 22, 0), "Zrotation Xrotation Yrotation"),
    ("Head", "Neck", (0, 9, 2), "Zrotation Xrotation Yrotation"),
    ("LeftShoulder", "Chest", (4, 17, 0), "Zrotation Xrotation Yrotation"),
    ("LeftArm", "LeftShoulder", (14, 0, 0), "Xrotation Zrotation Yrotation"),
    ("LeftForeArm", "LeftArm", (28, 0, 0), "Zrotation Xrotation Yrotation"),
    ("LeftHand", "LeftForeArm", (25, 0, 0), "Zrotation Xrotation Yrotation"),
    ("RightShoulder", "Chest", (-4, 17, 0), "Zrotation Xrotation Yrotation"),
    ("RightArm", "RightShoulder", (-14, 0, 0), "Xrotation Zrotation Yrotation"),
    ("RightForeArm", "RightArm", (-28, 0, 0), "Zrotation Xrotation Yrotation"),
    ("RightHand", "RightForeArm", (-25, 0, 0), "Zrotation Xrotation Yrotation"),
]
END_SITES = {
    "LeftToeBase": (0, 0, 6), "RightToeBase": (0, 0, 6), "Head": (0, 18, 0),
    "LeftHand": (10, 0, 0), "RightHand": (-10, 0, 0),
}


def squat_phase(t):
    """0 standing .. 1 deepest; two repetitions of 3 s after 0.5 s of standing."""
    local = t - 0.5
    if local < 0 or local > 6:
        return 0.0
    return 0.5 * (1 - math.cos(2 * math.pi * (local % 3.0) / 3.0))


def frame_values(t):
    s = squat_phase(t)
    hip, shank, lean, reach = 85 * s, 30 * s, 30 * s, 80 * s
    a, b = math.radians(hip), math.radians(shank)
    # Feet planted: the hip joint sits above the ankle by the legs' vertical reach, and behind
    # it by how far the thigh tips forward beyond the shank.
    hip_height = ANKLE_HEIGHT + THIGH * math.cos(a) + SHANK * math.cos(b)
    root = (0.0, hip_height + 5, -(THIGH * math.sin(a) - SHANK * math.sin(b)))
    sway = 2.0 * math.sin(2 * math.pi * t / 7.0)  # a little heading wobble, as people do
    v = {name: (0.0, 0.0, 0.0) for name, *_ in JOINTS}
    v["Hips"] = (0.0, 0.0, sway)
    for side in ("Left", "Right"):
        v[side + "UpLeg"] = (0.0, -hip, 0.0)  # Z, X, Y: flexion brings the thigh forward
        v[side + "Leg"] = (0.0, hip + shank, 0.0)  # knee flexion = thigh + shank angles
        v[side + "Foot"] = (0.0, -shank, 0.0)  # keeps the foot flat
    v["Spine"] = (0.0, lean * 0.6, 0.0)
    v["Chest"] = (0.0, lean * 0.4, 0.0)
    v["Neck"] = (0.0, -lean * 0.5, 0.0)
    v["Head"] = (0.0, -lean * 0.3, 0.0)
    v["LeftArm"] = (-reach, -78.0, 0.0)  # X, Z, Y: hang down, then reach forward
    v["RightArm"] = (-reach, 78.0, 0.0)
    v["LeftForeArm"] = (0.0, 0.0, -10 * s)
    v["RightForeArm"] = (0.0, 0.0, 10 * s)
    values = list(root)
    for name, *_ in JOINTS:
        values.extend(v[name])
    return values


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Assets/examples/squat_demo.bvh"
    lines = ["HIERARCHY"]
    children = {}
    for name, parent, *_ in JOINTS:
        children.setdefault(parent, []).append(name)
    info = {name: (offset, channels) for name, _, offset, channels in JOINTS}

    def write(name, depth):
        pad = "\t" * depth
        offset, channels = info[name]
        lines.append(pad + ("ROOT " if depth == 0 else "JOINT ") + name)
        lines.append(pad + "{")
        lines.append(pad + "\tOFFSET %.6f %.6f %.6f" % offset)
        lines.append(pad + "\tCHANNELS %d %s" % (len(channels.split()), channels))
        for child in children.get(name, []):
            write(child, depth + 1)
        if name in END_SITES:
            lines.append(pad + "\tEnd Site")
            lines.append(pad + "\t{")
            lines.append(pad + "\t\tOFFSET %.6f %.6f %.6f" % END_SITES[name])
            lines.append(pad + "\t}")
        lines.append(pad + "}")

    write("Hips", 0)
    frames = int(SECONDS * FPS)
    lines += ["MOTION", "Frames: %d" % frames, "Frame Time: %.8f" % (1 / FPS)]
    for f in range(frames):
        lines.append(" ".join("%.4f" % x for x in frame_values(f / FPS)))
    with open(out, "w", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
