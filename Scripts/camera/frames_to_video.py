#!/usr/bin/env python3
"""Assemble a folder of PNG frames into a video, optionally cropped, for the camera tests.

usage: frames_to_video.py FOLDER OUT.(mp4|avi) [--fps F] [--crop x0,y0,x1,y1]

.mp4 -> fourcc mp4v (MPEG-4 part 2), .avi -> MJPG. `ontrack render --frames` writes such a
folder; cropping to the patient's avatar leaves one person in view. Prints what it wrote."""
import argparse
import os
import sys

import cv2

p = argparse.ArgumentParser()
p.add_argument("folder")
p.add_argument("out")
p.add_argument("--fps", type=float, default=15.0)
p.add_argument("--crop", default=None)
a = p.parse_args()
names = sorted(f for f in os.listdir(a.folder) if f.lower().endswith(".png"))
if not names:
    sys.exit(f"no PNG frames in {a.folder}")
crop = [int(v) for v in a.crop.split(",")] if a.crop else None
first = cv2.imread(os.path.join(a.folder, names[0]))
if crop:
    first = first[crop[1]:crop[3], crop[0]:crop[2]]
h, w = first.shape[:2]
fourcc = cv2.VideoWriter_fourcc(*("MJPG" if a.out.lower().endswith(".avi") else "mp4v"))
vw = cv2.VideoWriter(a.out, fourcc, a.fps, (w, h))
if not vw.isOpened():
    sys.exit(f"VideoWriter cannot open {a.out}")
for n in names:
    img = cv2.imread(os.path.join(a.folder, n))
    if crop:
        img = img[crop[1]:crop[3], crop[0]:crop[2]]
    vw.write(img)
vw.release()
print(f"{a.out}: {len(names)} frames {w}x{h} @ {a.fps} fps")
