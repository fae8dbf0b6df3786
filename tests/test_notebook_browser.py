"""Notebook display in a real browser: Chromium (headless) loads the HTML that Jupyter would
show for a `VideoFrame`, a list of video frames, a list of audio and video frames, and two
audio lists (one short, one over the embedding limit), and the page reports what the
browser decoded: image and video sizes, durations, ready states and the colour of a decoded
video picture, read back from the DOM (``--dump-dom``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core.display import MAX_EMBED_BYTES, PREVIEW_RATE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian package chromium; .ci/run adds it)"
)

# Plays the videos (muted), waits until every medium has its first picture and every video
# has played a little (or failed), then writes what the browser decoded into
# <pre id="report">; a video's picture is drawn on a canvas to read its middle pixel back.
_SCRIPT = """
<pre id="report">pending</pre>
<script>
function medium(element) {
  const seen = {readyState: element.readyState, duration: element.duration,
                error: element.error ? element.error.code : null};
  if (element.tagName === "VIDEO") {
    seen.width = element.videoWidth;
    seen.height = element.videoHeight;
    seen.audioBytes = element.webkitAudioDecodedByteCount;  // sound decoded while playing
    seen.time = element.currentTime;
    try {
      const canvas = document.createElement("canvas");
      canvas.width = element.videoWidth;
      canvas.height = element.videoHeight;
      const context = canvas.getContext("2d");
      context.drawImage(element, 0, 0);
      const x = Math.floor(canvas.width / 2), y = Math.floor(canvas.height / 2);
      seen.middle = Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
    } catch (problem) { seen.middle = String(problem); }
  }
  return seen;
}
function report() {
  const media = Array.from(document.querySelectorAll("video, audio"));
  const waiting = media.some(m => !m.error && (m.readyState < 2 || m.tagName === "VIDEO" &&
                                                m.currentTime < 0.03));
  if (waiting && performance.now() < 4000) { setTimeout(report, 50); return; }
  const images = Array.from(document.querySelectorAll("img")).map(
    i => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}));
  const found = {};
  for (const m of media) { found[m.closest("[data-case]").dataset.case] = medium(m); }
  document.getElementById("report").textContent = JSON.stringify({media: found, images});
}
window.addEventListener("load", () => {
  for (const video of document.querySelectorAll("video")) { video.muted = true; video.play(); }
  report();
});
</script>
"""


def _picture(width: int, height: int, colour: tuple[int, int, int]) -> NDArray[np.uint8]:
    return np.broadcast_to(np.array(colour, np.uint8), (height, width, 3)).copy()


def _page(tmp_path: Path, cases: dict[str, str]) -> Path:
    body = "".join(f'<div data-case="{name}">{markup}</div>' for name, markup in cases.items())
    path = tmp_path / "page.html"
    path.write_text(f"<!doctype html><html><body>{body}{_SCRIPT}</body></html>")
    return path


def _chromium(tmp_path: Path, page: Path, *extra: str) -> str:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
        *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        *extra,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def _report(dom: str) -> dict[str, Any]:
    found = re.search(r'<pre id="report">([^<]*)</pre>', dom)
    assert found is not None, dom[-500:]
    assert found[1] != "pending", "the page's script never reported"
    return dict(json.loads(html.unescape(found[1])))


def test_chromium_decodes_every_kind_of_display(tmp_path: Path) -> None:
    orange = (230, 120, 30)
    frame = lk.VideoFrame(_picture(200, 100, orange), "rgb24")
    video = lk.FrameList(
        [
            lk.VideoFrame(_picture(160, 96, orange), "rgb24", timestamp_us=i * 40_000).convert(
                "i420"
            )
            for i in range(25)
        ]
    )
    clip = tmp_path / "clip.mkv"
    pictures = [
        lk.VideoFrame(_picture(64, 48, (40, 160, 220)), "rgb24", timestamp_us=i * 50_000)
        for i in range(40)
    ]
    lk.run_sync(
        lk.to_media_file(
            clip, audio=lk.sine(440, 2.0, 48_000), video=lk.from_video_frames(pictures)
        )
    )
    media = lk.open_media(clip)
    assert media.audio is not None
    assert media.video is not None
    both = lk.run_sync(lk.merge(media.audio, media.video).collect())
    short = lk.run_sync(lk.sine(440, 2.0, 48_000, num_channels=2).chunk(ms=20).collect())
    long = lk.run_sync(lk.sine(440, 120.0, 48_000, num_channels=2).collect())
    cases = {
        "frame": frame._repr_html_(),
        "video": video._repr_html_(),
        "both": both._repr_html_(),
        "short": short._repr_html_(),
        "long": long._repr_html_(),
    }
    assert all(markup is not None for markup in cases.values())
    page = _page(tmp_path, {k: v for k, v in cases.items() if v is not None})
    found = _report(_chromium(tmp_path, page, "--dump-dom"))

    assert found["images"] == [{"complete": True, "width": 200, "height": 100}]
    seen = found["media"]
    for name in ("video", "both", "short", "long"):
        assert seen[name]["error"] is None, (name, seen[name])
        assert seen[name]["readyState"] >= 2, (name, seen[name])  # a picture/sound decoded
    assert (seen["video"]["width"], seen["video"]["height"]) == (160, 96)
    assert seen["video"]["duration"] == pytest.approx(1.0, abs=0.05)
    # VP8 is lossy and the colour goes through YUV twice: near the frame's own colour
    assert np.abs(np.array(seen["video"]["middle"]) - orange).max() <= 8, seen["video"]
    assert seen["video"]["audioBytes"] == 0  # no sound in a video-only list
    assert (seen["both"]["width"], seen["both"]["height"]) == (64, 48)
    assert seen["both"]["audioBytes"] > 0  # the Opus track decoded as it played
    assert seen["both"]["duration"] == pytest.approx(2.0, abs=0.05)
    assert np.abs(np.array(seen["both"]["middle"]) - (40, 160, 220)).max() <= 8, seen["both"]
    assert seen["short"]["duration"] == pytest.approx(2.0, abs=1e-3)
    preview = MAX_EMBED_BYTES // 2 / PREVIEW_RATE  # the long clip's preview: its first 46.875 s
    assert seen["long"]["duration"] == pytest.approx(preview, abs=1e-3)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg reads the screenshot back")
def test_a_screenshot_of_the_page_shows_the_pictures(tmp_path: Path) -> None:
    """The picture is drawn where the page puts it: the screenshot holds its colour."""
    green = (20, 200, 60)
    frame = lk.VideoFrame(_picture(300, 200, green), "rgb24")
    page = _page(tmp_path, {"frame": frame._repr_html_()})
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=640,480")
    assert shot.exists()
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(shot), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    ).stdout
    pixels = np.frombuffer(raw, np.uint8).reshape(480, 640, 3)
    matches = np.all(np.abs(pixels.astype(int) - green) <= 2, axis=-1)
    assert matches.sum() >= 300 * 200 * 0.95  # the whole picture is on screen
