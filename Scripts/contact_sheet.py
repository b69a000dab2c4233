#!/usr/bin/env python3
"""Contact sheet of the authored low-back-pain references: per exercise, 4 instants of its
one repetition seen from the front and from the side, joint centres from `ontrack fk --csv`.

usage: Scripts/contact_sheet.sh   (builds, writes the references to a temporary folder and
       calls this with: contact_sheet.py ONTRACK BVH_FOLDER OUT.png [--variant NAME])
"""
import csv, io, os, subprocess, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ontrack, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]
BONES = [("Hips", "Spine"), ("Spine", "Chest"), ("Chest", "Neck"), ("Neck", "Head"), ("Head", "Head_End"),
         ("Chest", "LeftShoulder"), ("LeftShoulder", "LeftArm"), ("LeftArm", "LeftForeArm"),
         ("LeftForeArm", "LeftHand"), ("LeftHand", "LeftHand_End"),
         ("Chest", "RightShoulder"), ("RightShoulder", "RightArm"), ("RightArm", "RightForeArm"),
         ("RightForeArm", "RightHand"), ("RightHand", "RightHand_End"),
         ("Hips", "LeftUpLeg"), ("LeftUpLeg", "LeftLeg"), ("LeftLeg", "LeftFoot"), ("LeftFoot", "LeftToeBase"),
         ("LeftToeBase", "LeftToeBase_End"),
         ("Hips", "RightUpLeg"), ("RightUpLeg", "RightLeg"), ("RightLeg", "RightFoot"),
         ("RightFoot", "RightToeBase"), ("RightToeBase", "RightToeBase_End")]

files = sorted(f for f in os.listdir(folder) if f.endswith(".bvh"))
fig, axes = plt.subplots(len(files), 8, figsize=(16, 2.1 * len(files)))
for row, name in enumerate(files):
    text = subprocess.run([ontrack, "fk", os.path.join(folder, name), "--csv"], check=True,
                          capture_output=True, text=True).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    n = len(rows)
    picks = [0, n // 3, n // 2, (2 * n) // 3] if n > 3 else [0] * 4
    lowest = min(float(v) for r in rows for k, v in r.items() if k.endswith(".y"))
    for col in range(8):
        ax = axes[row][col]
        r = rows[picks[col % 4]]
        side = col >= 4
        def p(j):
            return (float(r[j + (".z" if side else ".x")]) * (-1 if side else 1), float(r[j + ".y"]))
        cx = sum(p(j)[0] for j in ("Hips", "Head")) / 2
        for a, b in BONES:
            (x0, y0), (x1, y1) = p(a), p(b)
            colour = "#1f6fb4" if "Left" in a + b else ("#c8553d" if "Right" in a + b else "#333333")
            ax.plot([x0, x1], [y0, y1], color=colour, lw=1.8)
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xlim(cx - 1.0, cx + 1.0)
        ax.set_ylim(-0.05, 1.95)
        ax.set_aspect("equal")
        ax.set_xticks([]); ax.set_yticks([])
        if col == 0:
            ax.set_ylabel(name.replace(".bvh", ""), fontsize=7)
        if row == 0:
            ax.set_title(("side" if side else "front") + f" {['start', '1/3', '1/2', '2/3'][col % 4]}", fontsize=8)
    print(f"{name}: {n} frames, lowest joint centre {lowest:+.3f} m")
fig.suptitle("OnTrack low-back-pain references (blue = left, red = right; grey line = floor)", fontsize=10)
fig.tight_layout()
fig.savefig(out, dpi=70)
print("wrote", out)
