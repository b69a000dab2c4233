#!/usr/bin/env python3
"""Build a test video from the astronaut photo, shifted and scaled over N frames.
usage: make_test_video.py OUT.(mp4|avi) [N=60] [W=640] [H=480] [FPS=30]
.mp4 -> fourcc mp4v (MPEG-4 part 2), .avi -> MJPG. Prints what it wrote."""
import os, sys
import cv2
import numpy as np
import skimage

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
W = int(sys.argv[3]) if len(sys.argv) > 3 else 640
H = int(sys.argv[4]) if len(sys.argv) > 4 else 480
fps = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
src = cv2.imread(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))
fourcc = cv2.VideoWriter_fourcc(*("MJPG" if out.lower().endswith(".avi") else "mp4v"))
vw = cv2.VideoWriter(out, fourcc, fps, (W, H))
if not vw.isOpened():
    sys.exit(f"VideoWriter cannot open {out}")
for i in range(n):
    a = i / max(1, n - 1)
    s = 0.75 + 0.2 * np.sin(2 * np.pi * a)          # scale 0.55..0.95 of frame height
    side = int(H * s)
    img = cv2.resize(src, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((H, W, 3), 200, np.uint8)
    x0 = int((W - side) * a)                          # slide left -> right
    y0 = int((H - side) * (0.5 + 0.5 * np.sin(4 * np.pi * a)))
    frame[y0:y0 + side, x0:x0 + side] = img
    vw.write(frame)
vw.release()
cap = cv2.VideoCapture(out)
print(f"{out}: {int(cap.get(cv2.CAP_PROP_FRAME_COUNT))} frames {int(cap.get(3))}x{int(cap.get(4))} "
      f"@ {cap.get(cv2.CAP_PROP_FPS)} fps, {os.path.getsize(out)} bytes")
