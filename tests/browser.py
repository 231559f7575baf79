"""Drive JupyterLab in Debian's chromium (through Playwright) and check that the sliders work.

Used by tests/test_browser.py. `lab_server` starts JupyterLab on 127.0.0.1 with a random token,
its own settings, runtime and config folders, and a copy of the notebooks (so that nothing the
browser does can touch the committed files). `open_lab` loads JupyterLab once in a page;
`check_sliders` opens one notebook in it, runs every cell, moves the sliders, closes the notebook
and its kernel, and returns the problems it saw (an empty list when all is well).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions"]
SETTINGS = {  # per-user JupyterLab settings: no autosave, no news, every cell kept in the page
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none", "autoStartDefaultKernel": True},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict | list:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def lab_server(notebook_dir: Path, workdir: Path):
    """Start JupyterLab serving a copy of `notebook_dir`; yield (base_url, token, root); always stop it."""
    root = workdir / "notebooks"
    shutil.copytree(notebook_dir, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for folder in ("settings", "workspaces", "runtime", "config", "data"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    for name, value in SETTINGS.items():
        path = workdir / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    token, port = secrets.token_hex(16), _free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(workdir / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"), JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
               JUPYTER_CONFIG_DIR=str(workdir / "config"), JUPYTER_DATA_DIR=str(workdir / "data"), MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = open(workdir / "jupyterlab.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.extension_manager=readonly", "--ServerApp.open_browser=False",
         "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: open and close notebooks in one page
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{(workdir / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not answer within 90 s")
                time.sleep(0.5)
        yield base, token, root
    finally:
        with contextlib.suppress(Exception):
            for kernel in _get(f"{base}/api/kernels?token={token}"):
                req = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
                urllib.request.urlopen(req, timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _wait_until_all_ran(page, panel, n_code: int, timeout_s: float) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        busy = any("*" in p for p in prompts)
        done = sum(1 for p in prompts if p.strip().strip("[]:").isdigit())
        if not busy and done >= n_code:
            return None
        if not busy and panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count():
            return f"a cell failed after {done} of {n_code} cells ran (Run All stops there)"
        page.wait_for_timeout(500)
    return f"cells still running or not run after {timeout_s:.0f} s"


def _started(page, panel, within_s: float) -> bool:
    """Whether a code cell shows [*] (running) or a number (ran) within `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        if any("*" in p or p.strip().strip("[]:").isdigit() for p in prompts):
            return True
        page.wait_for_timeout(200)
    return False


def _state(box) -> tuple[str, str]:
    readout = box.locator(".widget-html-content").first.inner_text()
    src = box.locator("img").first.get_attribute("src") or ""
    return readout, src


def open_lab(browser, base: str, token: str, viewport: dict | None = None):
    """One JupyterLab page, loaded once, in which every notebook is then opened and closed in turn
    (loading JupyterLab itself costs seconds; doing it once per notebook would double the test)."""
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1000})
    page.goto(f"{base}/lab?reset&token={token}")  # reset: a fresh workspace
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
    page.evaluate("() => window.jupyterapp.restored")
    return page


_OPEN = """async ([name, timeoutMs]) => {
  const app = window.jupyterapp;
  const widget = await app.commands.execute('docmanager:open', {path: name, factory: 'Notebook'});
  window.fmWidget = widget;  // the notebook this check is about, for _RUN_ALL and _CLOSE
  await widget.context.ready;
  await widget.sessionContext.ready;
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
    if (kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected') return 'idle';
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return 'kernel not idle after ' + timeoutMs + ' ms';
}"""

# Run All on *this* notebook: activate it first, since the command acts on the notebook with focus
_RUN_ALL = """async () => {
  const app = window.jupyterapp, widget = window.fmWidget;
  app.shell.activateById(widget.id);
  widget.content.activate();
  await app.commands.execute('notebook:run-all-cells');
}"""

_CLOSE = """async () => {
  const widget = window.fmWidget;
  if (!widget || !widget.sessionContext) return;
  await widget.sessionContext.shutdown();
  widget.context.model.dirty = false;  // nothing is saved: the files are copies, and a dialog would block
  widget.dispose();
}"""


def check_sliders(page, name: str, n_code: int, screenshot: Path, timeout_s: float = 300,
                  change_timeout_s: float = 10) -> list[str]:
    """In the JupyterLab `page` (see `open_lab`), open notebook `name`, run all cells, move every
    slider with the keyboard, then shut its kernel down and close it; return the problems seen.

    A move must change the readout and the picture within `change_timeout_s` seconds."""
    problems: list[str] = []
    status = page.evaluate(_OPEN, [name, 90_000])
    if status != "idle":
        return [f"{name}: {status}"]
    try:
        panel = page.locator(".jp-NotebookPanel:visible").first
        panel.wait_for(timeout=60_000)
        for _ in range(3):  # a Run All that lands before the notebook has focus runs nothing: again
            page.evaluate(_RUN_ALL)
            if _started(page, panel, within_s=5):
                break
        problem = _wait_until_all_ran(page, panel, n_code, timeout_s)
        if problem:
            problems.append(problem)
        page.wait_for_timeout(500)
        problems += _check_outputs_and_sliders(page, panel, change_timeout_s)
        page.screenshot(path=str(screenshot), full_page=False)
    finally:
        page.evaluate(_CLOSE)
    return problems


def _check_outputs_and_sliders(page, panel, change_timeout_s: float) -> list[str]:
    problems: list[str] = []
    if "Error displaying widget" in panel.inner_html():
        problems.append("'Error displaying widget' is shown")
    errors = panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    problems += [f"an error was printed: {e.strip()[:300]}" for e in errors if "Traceback" in e or "Error" in e]
    sliders = panel.locator(".widget-vbox:has(.widget-slider)")
    count = sliders.count()
    if count == 0:
        problems.append("no slider was rendered")
    for i in range(count):
        before = _state(sliders.nth(i))
        if not before[1].startswith("blob:") and not before[1].startswith("data:"):
            problems.append(f"slider {i}: no picture is shown")
        handle = sliders.nth(i).locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        after = before
        for key in ("ArrowRight", "ArrowLeft"):  # a slider already at its right end only moves left
            for _ in range(2):
                page.keyboard.press(key)
            for _ in range(max(1, round(change_timeout_s / 0.25))):  # time for the kernel to answer
                page.wait_for_timeout(250)
                after = _state(sliders.nth(i))
                if after[0] != before[0] and after[1] != before[1]:
                    break
            if after[0] != before[0] or after[1] != before[1]:
                break
        if after[0] == before[0]:
            problems.append(f"slider {i}: the readout did not change ({before[0]!r})")
        if after[1] == before[1]:
            problems.append(f"slider {i}: the picture did not change")
    return problems
