"""A phone whose camera films a QR code the service drew: Chromium with a fake camera playing a video
made (with ffmpeg) from the service's own SVG, so a page's scanner reads what a real camera would see.

    async def test_x(camera: Camera) -> None:
        page = await camera.filming(svg_text)              # a 360 px page whose camera shows the code
        page = await camera.filming(svg_text, native_reader=False)  # ... with no BarcodeDetector: jsQR reads

Skipped, saying which, only when /usr/bin/chromium or ffmpeg is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServedApp
from tests.merchants.test_merchant_page import CHROMIUM, CHROMIUM_ARGS, PHONE

# What the camera sees: the code on white, as on a phone's screen or a printed sheet, filling half the
# height of a 640 x 480 picture.
FRAME = "640:480"
CODE_SIDE = 240


def ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def film(svg: str, folder: Path) -> Path:
    """The service's SVG -> a PNG (librsvg, in ffmpeg) -> two seconds of Y4M video, which Chromium's fake
    camera plays in a loop."""
    tool = ffmpeg()
    assert tool is not None
    drawn, png, video = folder / "qr.svg", folder / "qr.png", folder / "camera.y4m"
    drawn.write_text(svg)
    quiet = [tool, "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([*quiet, "-i", str(drawn), str(png)], check=True, timeout=60)  # noqa: S603 - ffmpeg, our files
    subprocess.run(  # noqa: S603 - ffmpeg on the files just written, fixed arguments
        [
            *quiet,
            "-loop",
            "1",
            "-i",
            str(png),
            "-f",
            "lavfi",
            "-i",
            f"color=c=white:s={FRAME.replace(':', 'x')}:r=10",
            # The SVG has no background of its own: laid on white, scaled without blurring its modules.
            "-filter_complex",
            f"[0]scale={CODE_SIDE}:{CODE_SIDE}:flags=neighbor[code];"
            "[1][code]overlay=(W-w)/2:(H-h)/2:shortest=1,format=yuv420p",
            "-t",
            "2",
            str(video),
        ],
        check=True,
        timeout=120,
    )
    return video


class Camera:
    def __init__(self, playwright: Any, served: ServedApp, folder: Path) -> None:
        self._playwright = playwright
        self._served = served
        self._folder = folder
        self._browsers: list[Any] = []

    async def filming(self, svg: str, *, native_reader: bool = True) -> Any:
        """A new phone-sized page in a Chromium whose camera films `svg`. Without `native_reader` the page
        has no BarcodeDetector, as in many Android WebViews, so the vendored jsQR must read the code."""
        folder = self._folder / f"camera-{len(self._browsers)}"
        folder.mkdir()
        video = film(svg, folder)
        chromium = await self._playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
            headless=True,
        )
        self._browsers.append(chromium)
        context = await chromium.new_context(
            viewport=PHONE,
            base_url=self._served.base_url,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        if not native_reader:
            await context.add_init_script("delete window.BarcodeDetector;")
        return await context.new_page()

    async def close(self) -> None:
        for chromium in self._browsers:
            await chromium.close()


@pytest.fixture
async def camera(served: ServedApp, tmp_path: Path) -> AsyncIterator[Camera]:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not installed: {CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
    if ffmpeg() is None:
        pytest.skip("ffmpeg not installed: the fake camera's video is made with it (apt-get install -y ffmpeg)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        camera = Camera(playwright, served, tmp_path)
        try:
            yield camera
        finally:
            await camera.close()
