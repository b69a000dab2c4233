#!/usr/bin/env python3
"""OnTrack pose helper: frames in, one JSON line per frame out.

Sources (--source):
  /dev/videoN or N     a V4L2 camera (OpenCV CAP_V4L2)
  path/to/video        any file OpenCV/ffmpeg can decode (.mp4, .avi, ...)
  path/to/image        a single still (.png, .jpg, ...)
  path/to/directory    the images in it, sorted by name, as a sequence

stdout: one JSON object per frame, nothing else, flushed per line:
  {"seq":N,"t":s,"layout":"blazepose33","keypoints":{name:[x,y,z]},
   "confidence":{name:v},"image":{name:[x_px,y_px]},"latency_ms":ms}
  no person: {"seq":N,"t":s,"keypoints":null,"latency_ms":ms}
  keypoints = pose_world_landmarks: metres, origin midway between the hips,
  x = towards image right, y = down, z = away from the camera (same
  orientation as the image axes; see REPORT.md for the check).
stderr: JSON lines {"event":"start"|"end"|"error",...}. Output of the native
  libraries (TFLite/glog) is sent to --native-log (default /dev/null) so that
  stderr stays JSON-only.
exit codes: 0 ok / end of input / SIGTERM, 2 usage, 3 source missing or not
  openable, 4 model missing, 5 runtime failure, 1 anything else.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

LANDMARK_NAMES = [
    "nose", "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_pinky", "right_pinky",
    "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
]
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
MODEL_FILES = {
    0: "modules/pose_landmark/pose_landmark_lite.tflite",
    1: "modules/pose_landmark/pose_landmark_full.tflite",
    2: "modules/pose_landmark/pose_landmark_heavy.tflite",
}
DETECTOR_FILE = "modules/pose_detection/pose_detection.tflite"

EXIT_USAGE, EXIT_SOURCE, EXIT_MODEL, EXIT_RUNTIME = 2, 3, 4, 5

# --- private output channels -------------------------------------------------
# Keep the real stdout/stderr for our JSON only, and point fds 1 and 2 (which
# the C++ libraries and stray Python prints use) at the native log.
_OUT = None
_ERR = None


def _setup_streams(native_log):
    global _OUT, _ERR
    _OUT = os.fdopen(os.dup(1), "wb", buffering=0)
    _ERR = os.fdopen(os.dup(2), "wb", buffering=0)
    fd = os.open(native_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def emit_event(event, **fields):
    line = json.dumps({"event": event, **fields}, separators=(",", ":")) + "\n"
    stream = _ERR if _ERR is not None else sys.stderr.buffer
    try:
        stream.write(line.encode())
        stream.flush()
    except (BrokenPipeError, OSError):
        pass


class Fatal(Exception):
    def __init__(self, code, message, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


# --- sources -------------------------------------------------------------------
class ImageSource:
    """A single image or a directory of images; t = index / rate."""
    kind = "images"

    def __init__(self, cv2, paths, rate, loop):
        self.cv2, self.paths, self.rate, self.loop = cv2, paths, rate, loop
        self.i = 0
        self.width = self.height = None
        first = cv2.imread(paths[0], cv2.IMREAD_COLOR)
        if first is None:
            raise Fatal(EXIT_SOURCE, f"image file unreadable (not an image OpenCV can decode): {paths[0]}")
        self.height, self.width = first.shape[:2]
        self._cache = {0: first} if len(paths) == 1 else {}
        self.fps = rate

    def read(self):
        n = len(self.paths)
        if self.i >= n and not self.loop:
            return None
        idx = self.i % n
        img = self._cache.get(idx)
        if img is None:
            img = self.cv2.imread(self.paths[idx], self.cv2.IMREAD_COLOR)
            if img is None:
                raise Fatal(EXIT_SOURCE, f"image file unreadable: {self.paths[idx]}")
            if n == 1:
                self._cache[idx] = img
        t = self.i / self.rate
        self.i += 1
        return img, t, time.monotonic()

    def close(self):
        pass


class VideoFileSource:
    """A video file; t = the decoder's presentation time (CAP_PROP_POS_MSEC)."""
    kind = "video"

    def __init__(self, cv2, path, loop):
        self.cv2, self.path, self.loop = cv2, path, loop
        self.cap = cv2.VideoCapture(path)
        if not self.cap.isOpened():
            raise Fatal(EXIT_SOURCE, f"video file unreadable (OpenCV/ffmpeg cannot open it): {path}")
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not (0 < self.fps < 1000):
            self.fps = 30.0
        self.width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frames = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.offset = 0.0      # added to t after each loop so t keeps rising
        self.last_t = -1.0
        self.n_in_pass = 0
        self.total = 0

    def read(self):
        ok, frame = self.cap.read()
        if not ok:
            if self.total == 0:
                raise Fatal(EXIT_SOURCE, f"video file unreadable (no frame could be decoded): {self.path}")
            if not self.loop or self.n_in_pass == 0:
                return None
            self.offset = self.last_t + 1.0 / self.fps
            self.cap.set(self.cv2.CAP_PROP_POS_FRAMES, 0)
            self.n_in_pass = 0
            ok, frame = self.cap.read()
            if not ok:
                return None
        captured = time.monotonic()
        pos = self.cap.get(self.cv2.CAP_PROP_POS_MSEC)
        local = pos / 1000.0 if pos and pos > 0 else self.n_in_pass / self.fps
        if self.n_in_pass == 0:
            local = 0.0 if not pos or pos < 0 else local
        t = self.offset + local
        if t <= self.last_t:  # some containers report no/duplicate pts
            t = self.last_t + 1.0 / self.fps
        self.last_t = t
        self.n_in_pass += 1
        self.total += 1
        return frame, t, captured

    def close(self):
        self.cap.release()


class CameraSource:
    """A V4L2 camera read by a background thread that keeps only the newest
    frame, so a slow consumer gets fresh frames instead of a growing backlog.
    t = time.monotonic() when read() returned the frame in the grab thread."""
    kind = "camera"

    def __init__(self, cv2, dev, width, height, fps_hint):
        self.cv2, self.dev = cv2, dev
        if not os.path.exists(dev):
            present = sorted(p for p in os.listdir("/dev") if p.startswith("video"))
            raise Fatal(EXIT_SOURCE, f"camera {dev} does not exist"
                        + (f" (present: {', '.join('/dev/' + p for p in present)})" if present
                           else " (no /dev/video* device on this machine)"))
        if not os.access(dev, os.R_OK | os.W_OK):
            raise Fatal(EXIT_SOURCE, f"camera {dev} is not accessible: permission denied "
                        "(the user needs to be in the 'video' group)")
        self.cap = cv2.VideoCapture(dev, cv2.CAP_V4L2)
        if not self.cap.isOpened():
            raise Fatal(EXIT_SOURCE, f"camera {dev} could not be opened with V4L2 "
                        "(busy in another program, or not a capture device)")
        if width:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps_hint:
            self.cap.set(cv2.CAP_PROP_FPS, fps_hint)
        self.cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        ok, frame = self.cap.read()
        if not ok or frame is None:
            self.cap.release()
            raise Fatal(EXIT_SOURCE, f"camera {dev} opened but delivered no frame "
                        "(unsupported format/resolution, or a metadata-only node)")
        self.height, self.width = frame.shape[:2]
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        self._cond = threading.Condition()
        self._latest = (frame, time.monotonic())
        self._fresh = True
        self._failed = False
        self._stop = False
        self.dropped = 0
        self._th = threading.Thread(target=self._grab, daemon=True)
        self._th.start()

    def _grab(self):
        fails = 0
        while not self._stop:
            ok, frame = self.cap.read()
            ts = time.monotonic()
            with self._cond:
                if not ok:
                    fails += 1
                    if fails >= 50:
                        self._failed = True
                        self._cond.notify_all()
                        return
                    continue
                fails = 0
                if self._fresh:
                    self.dropped += 1
                self._latest = (frame, ts)
                self._fresh = True
                self._cond.notify_all()

    def read(self):
        with self._cond:
            while not self._fresh and not self._failed:
                self._cond.wait(timeout=5.0)
                if not self._fresh and not self._failed:
                    raise Fatal(EXIT_RUNTIME, f"camera {self.dev} delivered no frame for 5 s")
            if self._failed:
                raise Fatal(EXIT_RUNTIME, f"camera {self.dev} stopped delivering frames (unplugged?)")
            frame, ts = self._latest
            self._fresh = False
        return frame, ts, ts

    def close(self):
        self._stop = True
        self._th.join(timeout=2.0)
        self.cap.release()


def open_source(cv2, args):
    src = args.source
    if src.isdigit():
        src = f"/dev/video{src}"
    if src.startswith("/dev/video"):
        return CameraSource(cv2, src, args.width, args.height, args.fps_limit)
    if not os.path.exists(src):
        raise Fatal(EXIT_SOURCE, f"source does not exist: {src}")
    if os.path.isdir(src):
        paths = sorted(os.path.join(src, f) for f in os.listdir(src)
                       if os.path.splitext(f)[1].lower() in IMAGE_EXTS)
        if not paths:
            raise Fatal(EXIT_SOURCE, f"directory contains no image files ({', '.join(sorted(IMAGE_EXTS))}): {src}")
        return ImageSource(cv2, paths, args.image_rate, args.loop)
    if not os.access(src, os.R_OK):
        raise Fatal(EXIT_SOURCE, f"file unreadable: permission denied: {src}")
    if os.path.splitext(src)[1].lower() in IMAGE_EXTS:
        return ImageSource(cv2, [src], args.image_rate, args.loop)
    return VideoFileSource(cv2, src, args.loop)


# --- main ------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="/dev/video0",
                   help="/dev/videoN (or N), a video file, an image file or a directory of images")
    p.add_argument("--fps-limit", type=float, default=0.0,
                   help="process at most this many frames per second (0 = as fast as possible); "
                        "a camera's extra frames are dropped, files are paced")
    p.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0 = no limit)")
    p.add_argument("--loop", action="store_true", help="restart a video file (or image list) at its end")
    p.add_argument("--width", type=int, default=0, help="requested camera frame width")
    p.add_argument("--height", type=int, default=0, help="requested camera frame height")
    p.add_argument("--image-rate", type=float, default=30.0,
                   help="frames per second assumed for image sequences (sets t = index / rate)")
    p.add_argument("--model-complexity", type=int, default=1, choices=[0, 1, 2],
                   help="1 = pose_landmark_full (shipped in the wheel); 0/2 only if their .tflite is present")
    p.add_argument("--static", action="store_true",
                   help="static_image_mode=True (detect on every frame, no tracking/smoothing)")
    p.add_argument("--min-detection-confidence", type=float, default=0.5)
    p.add_argument("--min-tracking-confidence", type=float, default=0.5)
    p.add_argument("--no-image", action="store_true", help="omit the 'image' pixel coordinates")
    p.add_argument("--native-log", default=os.devnull,
                   help="file that receives the native libraries' stdout/stderr (default /dev/null)")

    def error(message):
        emit_event("error", message=f"usage: {message}", code=EXIT_USAGE)
        sys.exit(EXIT_USAGE)
    p.error = error
    return p.parse_args(argv)


def r5(v):
    return round(float(v), 5)


def run(args):
    # Quiet the native loggers as far as env vars can (fd redirection does the rest).
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        _setup_streams(args.native_log)
    except OSError as e:
        raise Fatal(EXIT_USAGE, f"cannot open --native-log {args.native_log}: {e.strerror}")

    try:
        import cv2
        import numpy  # noqa: F401
        import mediapipe as mp
    except Exception as e:  # ImportError, or a missing shared library
        raise Fatal(EXIT_MODEL, f"cannot import mediapipe/opencv ({type(e).__name__}: {e}); run install.sh")

    mp_root = os.path.dirname(mp.__file__)
    for rel in (DETECTOR_FILE, MODEL_FILES[args.model_complexity]):
        path = os.path.join(mp_root, rel)
        if not os.path.isfile(path):
            raise Fatal(EXIT_MODEL, f"pose model missing: {path} (mediapipe {mp.__version__}; only "
                        "model_complexity=1 is shipped in the wheel and nothing can be downloaded)")

    source = open_source(cv2, args)
    try:
        pose = mp.solutions.pose.Pose(
            static_image_mode=args.static,
            model_complexity=args.model_complexity,
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=args.min_detection_confidence,
            min_tracking_confidence=args.min_tracking_confidence,
        )
    except Exception as e:
        source.close()
        raise Fatal(EXIT_MODEL, f"cannot load the pose graph/model: {type(e).__name__}: {e}")

    emit_event("start", source=args.source, kind=source.kind, width=source.width, height=source.height,
               source_fps=round(source.fps, 3) if source.fps else None, layout="blazepose33",
               model="pose_landmark_full" if args.model_complexity == 1 else f"complexity{args.model_complexity}",
               mediapipe=mp.__version__, opencv=cv2.__version__, pid=os.getpid())

    stopping = {"flag": False}

    def on_term(signum, frame):
        stopping["flag"] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    # MediaPipe's Python solution API stamps packets with a simulated 30 fps
    # clock (+33333 us per call), which the landmark smoothing filter uses. We
    # feed it the real source timestamp instead (private attribute; guarded).
    can_stamp = hasattr(pose, "_simulated_timestamp")
    last_us = 0
    period = 1.0 / args.fps_limit if args.fps_limit > 0 else 0.0
    next_due = time.monotonic()
    seq = 0
    n_person = 0
    started = time.monotonic()
    reason = "end of input"
    try:
        while not stopping["flag"]:
            if args.max_frames and seq >= args.max_frames:
                reason = "max frames"
                break
            if period:
                now = time.monotonic()
                if now < next_due:
                    time.sleep(next_due - now)
                next_due = max(next_due + period, time.monotonic() - period)
            item = source.read()
            if item is None:
                break
            frame, t, captured = item
            if can_stamp:
                us = max(int(round(t * 1e6)), last_us + 1)
                pose._simulated_timestamp = us - 33333
                last_us = us
            h, w = frame.shape[:2]
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            rgb.flags.writeable = False
            res = pose.process(rgb)
            found = res.pose_world_landmarks is not None and res.pose_landmarks is not None
            if not found:
                obj = {"seq": seq, "t": round(t, 6), "keypoints": None}
            else:
                wl = res.pose_world_landmarks.landmark
                il = res.pose_landmarks.landmark
                obj = {
                    "seq": seq, "t": round(t, 6), "layout": "blazepose33",
                    "keypoints": {n: [r5(p.x), r5(p.y), r5(p.z)] for n, p in zip(LANDMARK_NAMES, wl)},
                    "confidence": {n: r5(p.visibility) for n, p in zip(LANDMARK_NAMES, il)},
                }
                if not args.no_image:
                    obj["image"] = {n: [round(p.x * w, 1), round(p.y * h, 1)] for n, p in zip(LANDMARK_NAMES, il)}
            obj["latency_ms"] = round((time.monotonic() - captured) * 1000.0, 2)
            line = json.dumps(obj, separators=(",", ":")) + "\n"
            try:
                _OUT.write(line.encode())
            except BrokenPipeError:
                reason = "stdout closed"
                break
            seq += 1
            n_person += found
        else:
            reason = "signal"
    finally:
        source.close()
        pose.close()
    elapsed = time.monotonic() - started
    extra = {"dropped": source.dropped} if hasattr(source, "dropped") else {}
    emit_event("end", reason=reason, frames=seq, with_person=n_person, seconds=round(elapsed, 3),
               fps=round(seq / elapsed, 2) if elapsed > 0 else None, **extra)
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except Fatal as f:
        emit_event("error", message=f.message, code=f.code, **f.extra)
        return f.code
    except Exception as e:  # keep the stderr contract even for bugs
        emit_event("error", message=f"unexpected {type(e).__name__}: {e}", code=1)
        return 1


if __name__ == "__main__":
    sys.exit(main())
