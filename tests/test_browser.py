"""The chat widget in a real browser: JupyterLab, headless Chromium and the packaged model, end to end.

The test starts JupyterLab on 127.0.0.1 (free port, random token, isolated config, HOME and TMPDIR in a temporary
folder) on a copy of notebooks/20_chat_widget.ipynb with its outputs cleared, opens it in headless Chromium through
Playwright, and runs all cells. Then, in the live widget:

- the settings it shows are its own defaults (not the demo cells' greedy, 40-token ones), and the chat-template
  panel is hidden with its button saying "Show";
- a message typed and sent with **Enter** (the keyboard shortcut) streams back; it prints the time from Enter to the
  first streamed text and saves screenshots under test-artifacts/;
- with the template panel shown, a second message streams: the panel shows the new message while the reply is still
  being generated, stays within its bounded height, and Stop ends the reply (the kernel answered it mid-generation);
- a Chinese message gets a reply, and a screenshot of it is kept (test-artifacts/chat_widget_chinese.png): with the
  CJK font the test makes sure of, its characters render as glyphs, not empty boxes.

Finally it shuts the server down and checks that no server, kernel or browser process is left.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import psutil
import pytest

from browser_support import CHROMIUM_ARGS, ensure_chromium, ensure_cjk_font

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "20_chat_widget.ipynb"
ARTIFACTS = REPO / "test-artifacts"
MESSAGE = "What is a token in a language model? Answer in one sentence."
STOP_MESSAGE = "Count from 1 to 200, one number per line."
CHINESE_MESSAGE = "请用一句话介绍一下iPhone"
TEMPLATE_HEIGHT_PX = 320  # helpers.widget.TEMPLATE_HEIGHT_PX

# Generous limits: the machine may be slow and shared.
SERVER_START_S = 120
PAGE_READY_S = 180
RUN_ALL_S = 900
REPLY_S = 600

# Called in the page: the state of every code cell's prompt once execution started and nothing is queued, else null.
CELLS_FINISHED_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const started = prompts.some(t => /^\\[\\d+\\]:$/.test(t));
  return started && !prompts.includes('[*]:') ? prompts : null;
}"""

# Installed in the page before Send: records when Send was clicked, when the new reply first showed text, and each
# distinct length the reply had while it grew (more than one length means it was streamed, not shown at once).
WATCH_REPLY_JS = """() => {
  const conversation = document.querySelector('.qcw-conversation');
  const watch = window.__qcw = {clicked: null, first: null, lengths: [], before: 0};
  const start = () => {
    watch.clicked = performance.now();
    watch.before = conversation.querySelectorAll('.qcw-assistant').length;
    watch.first = null;
    watch.lengths = [];
  };
  document.querySelector('button.qcw-send').addEventListener('click', start, {capture: true});
  document.querySelector('.qcw-input input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') start();
  }, {capture: true});
  new MutationObserver(() => {
    if (watch.clicked === null) return;
    const replies = conversation.querySelectorAll('.qcw-assistant .qcw-text');
    if (replies.length <= watch.before) return;
    const length = replies[replies.length - 1].textContent.length;
    if (length > 0 && watch.first === null) watch.first = performance.now();
    if (length > 0 && watch.lengths[watch.lengths.length - 1] !== length) watch.lengths.push(length);
  }).observe(conversation, {childList: true, subtree: true, characterData: true});
}"""

STATUS_DONE = re.compile(r"^(Done|Stopped|Generation failed|This conversation|Type a message|Wait for|No text)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_cleared_copy(source: Path, target: Path) -> None:
    """The notebook without outputs, execution counts or saved widget state, so nothing satisfies a wait early."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, target)


def write_isolated_config(folder: Path) -> dict[str, Path]:
    """Jupyter's config, data, runtime and lab-settings folders inside ``folder``."""
    dirs = {name: folder / name for name in ("config", "data", "runtime", "settings", "workspaces", "home", "tmp")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    (dirs["config"] / "labconfig").mkdir()
    # the "Jupyter news?" toast would cover the page; the extension manager would query PyPI
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True,
        "@jupyterlab/extensionmanager-extension": True}}))
    # keep every cell in the DOM, so that every prompt can be read
    tracker = dirs["settings"] / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    return dirs


def family(pid: int) -> list[psutil.Process]:
    """The process ``pid`` and all its descendants (those still running)."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def mentioning(text: str) -> list[psutil.Process]:
    """Running processes whose command line mentions ``text`` (our temporary folder)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(text in part for part in process.info["cmdline"] or []):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def end_processes(processes: list[psutil.Process], what: str) -> None:
    """Wait for ``processes`` to exit; terminate, then kill, any that do not. Fails if one survives."""
    own = os.getpid()
    processes = [p for p in {p.pid: p for p in processes}.values() if p.pid != own]
    _, alive = psutil.wait_procs(processes, timeout=15)
    if alive:
        print(f"[browser] {what}: {len(alive)} process(es) still running after shutdown; terminating them: "
              f"{[p.pid for p in alive]}", flush=True)
        for process in alive:
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(alive, timeout=10)
        for process in alive:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(alive, timeout=10)
    assert not alive, f"{what}: processes left running: {[p.pid for p in alive]}"


@contextmanager
def jupyter_lab(folder: Path, notebook: Path):
    """JupyterLab serving ``notebook``'s folder; yields (base URL, token, process). Shuts it down afterwards."""
    dirs = write_isolated_config(folder)
    port, token = free_port(), secrets.token_hex(24)
    from helpers.paths import cache_dir

    env = {**os.environ, "WORKBOOK_MODEL": "packaged", "HF_HUB_OFFLINE": "1", "WORKBOOK_CACHE": str(cache_dir()),
           "HOME": str(dirs["home"]), "TMPDIR": str(dirs["tmp"]), "JUPYTER_CONFIG_DIR": str(dirs["config"]),
           "JUPYTER_DATA_DIR": str(dirs["data"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
           "IPYTHONDIR": str(dirs["home"] / ".ipython"), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={notebook.parent}", f"--LabApp.user_settings_dir={dirs['settings']}",
               f"--LabApp.workspaces_dir={dirs['workspaces']}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = folder / "jupyter.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=env, cwd=notebook.parent, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    processes = family(server.pid)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in {SERVER_START_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, server
    except BaseException:
        print(f"[browser] JupyterLab log (last lines):\n{log_path.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        processes += family(server.pid)  # the kernel too, now that it runs
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError as exc:
            print(f"[browser] POST /api/shutdown failed ({exc}); killing the server's process group", flush=True)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print("[browser] the server did not exit in 30 s; killing its process group", flush=True)
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait(timeout=10)
        end_processes(processes + mentioning(str(folder)), "JupyterLab and its kernel")


@contextmanager
def chromium_page(executable: str, folder: Path):
    """A headless Chromium page that can reach 127.0.0.1 only; closes the browser and its processes afterwards."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    processes: list[psutil.Process] = []
    ours = psutil.Process()
    earlier_children = {child.pid for child in ours.children()}  # the JupyterLab server among them
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 1600})

                def only_local(route):
                    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
                        route.continue_()
                    else:
                        blocked.append(route.request.url)
                        route.abort()

                context.route("**/*", only_local)
                page = context.new_page()
                yield page
            finally:
                for child in ours.children():  # Playwright's driver, and Chromium's processes below it
                    if child.pid not in earlier_children:
                        processes += family(child.pid)
                browser.close()
    finally:
        if blocked:
            print(f"[browser] blocked {len(blocked)} request(s) to the outside: {sorted(set(blocked))[:5]}")
        end_processes(processes + mentioning(str(folder)), "Chromium and Playwright")


@pytest.fixture
def short_tmp():
    """A temporary folder with a short path: Chromium's sockets live under $TMPDIR, and a socket path must stay
    under about 100 characters, which pytest's own tmp_path can exceed."""
    folder = Path(tempfile.mkdtemp(prefix="qcw-", dir="/tmp" if os.path.isdir("/tmp") else None))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_chat_widget_in_a_real_browser(short_tmp, monkeypatch):
    started = time.monotonic()
    executable = ensure_chromium()  # before HOME moves, so that a Playwright download lands in the real cache
    print(f"[browser] CJK fonts: {ensure_cjk_font()[:3]}")
    jupyter, browser = short_tmp / "jupyter", short_tmp / "browser"
    root = jupyter / "root"
    root.mkdir(parents=True)
    notebook = root / NOTEBOOK.name
    write_cleared_copy(NOTEBOOK, notebook)
    # Chromium writes under $HOME and Playwright under $TMPDIR: keep both inside the test's folder
    for name in ("home", "tmp"):
        (browser / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(browser / "home"))
    monkeypatch.setenv("TMPDIR", str(browser / "tmp"))
    ARTIFACTS.mkdir(exist_ok=True)
    from playwright.sync_api import expect

    with jupyter_lab(jupyter, notebook) as (base, token, _server), chromium_page(executable, browser) as page:
        console_errors: list[str] = []
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        try:
            page.goto(f"{base}/lab/tree/{notebook.name}?token={token}", timeout=PAGE_READY_S * 1000)
            expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=PAGE_READY_S * 1000)

            page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
            page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
            prompts = page.wait_for_function(CELLS_FINISHED_JS, timeout=RUN_ALL_S * 1000,
                                             polling=500).json_value()
            problems = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            assert problems.count() == 0, f"stderr or errors in the notebook: {problems.all_inner_texts()}"
            assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), f"not every cell ran: {prompts}"
            print(f"[browser] ran all {len(prompts)} code cells; {time.monotonic() - started:.1f} s so far")

            chat = page.locator(".qcw-chat")
            expect(chat).to_have_count(1)
            chat.scroll_into_view_if_needed()
            status = page.locator(".qcw-status")
            text_box = page.locator(".qcw-input input")
            # after Run All the live widget starts with its own settings, not the demo cells' greedy 40 tokens
            expect(status).to_contain_text("New conversation (sampling: temperature 0.7")
            expect(status).to_contain_text("max_new_tokens 512")
            expect(page.locator(".qcw-show-template")).to_have_text("Show the chat template")
            expect(page.locator(".qcw-template")).to_be_hidden()
            page.evaluate(WATCH_REPLY_JS)

            # a question, sent with Enter, streamed in
            text_box.fill(MESSAGE)
            text_box.press("Enter")
            page.wait_for_function("() => window.__qcw.first !== null", timeout=REPLY_S * 1000, polling=50)
            expect(status).to_have_text(STATUS_DONE, timeout=REPLY_S * 1000)
            watch = page.evaluate("() => window.__qcw")
            first_token_s = (watch["first"] - watch["clicked"]) / 1000
            print(f"[browser] Enter -> first streamed text: {first_token_s:.2f} s; status: {status.inner_text()}")
            assert status.inner_text().startswith("Done"), status.inner_text()
            users = page.locator(".qcw-conversation .qcw-user .qcw-text")
            replies = page.locator(".qcw-conversation .qcw-assistant .qcw-text")
            expect(users).to_have_text([MESSAGE])
            expect(replies).to_have_count(1)
            assert replies.first.inner_text().strip(), "the reply is empty"
            assert len(watch["lengths"]) >= 2, f"the reply did not grow while streaming: {watch['lengths']}"
            expect(text_box).to_have_value("")
            chat.screenshot(path=ARTIFACTS / "chat_widget.png")
            page.screenshot(path=ARTIFACTS / "chat_widget_page.png")
            print(f"[browser] reply: {replies.first.inner_text()!r}")

            # the template panel: shown on request, following the conversation while the reply streams; then Stop
            page.locator(".qcw-show-template").click()
            expect(page.locator(".qcw-show-template")).to_have_text("Hide the chat template")
            panel = page.locator(".qcw-template-text")
            expect(panel).to_contain_text(MESSAGE)
            text_box.fill(STOP_MESSAGE)
            page.locator("button.qcw-send").click()
            page.wait_for_function("() => window.__qcw.first !== null", timeout=REPLY_S * 1000, polling=50)
            expect(panel).to_contain_text(STOP_MESSAGE, timeout=30_000)  # redrawn while the reply streams
            assert page.locator("button.qcw-stop").is_enabled(), "the reply finished before the panel was checked"
            clicked = time.monotonic()
            page.locator("button.qcw-stop").click()
            expect(status).to_have_text(STATUS_DONE, timeout=REPLY_S * 1000)
            print(f"[browser] Stop -> status {status.inner_text()!r} after {time.monotonic() - clicked:.2f} s")
            assert status.inner_text().startswith("Stopped"), status.inner_text()
            assert "from the kept cache" in status.inner_text(), "turn 2 did not reuse turn 1's key/value cache"
            expect(users).to_have_text([MESSAGE, STOP_MESSAGE])
            expect(replies).to_have_count(2)
            expect(page.locator("button.qcw-send")).to_be_enabled()
            height = panel.evaluate("element => element.getBoundingClientRect().height")
            assert height <= TEMPLATE_HEIGHT_PX + 1, f"the template panel is {height} px tall, not bounded"
            chat.screenshot(path=ARTIFACTS / "chat_widget_stopped.png")

            # Chinese: a new conversation, a Chinese message, and a screenshot of the rendered reply
            page.locator("button.qcw-reset").click()
            page.locator(".qcw-show-template").click()
            expect(page.locator(".qcw-template")).to_be_hidden()
            text_box.fill(CHINESE_MESSAGE)
            text_box.press("Enter")
            expect(status).to_have_text(STATUS_DONE, timeout=REPLY_S * 1000)
            assert status.inner_text().startswith("Done"), status.inner_text()
            expect(users).to_have_text([CHINESE_MESSAGE])
            expect(replies).to_have_count(1)
            reply = replies.first.inner_text()
            assert reply.strip(), "the Chinese message got an empty reply"
            page.locator(".qcw-conversation").screenshot(path=ARTIFACTS / "chat_widget_chinese.png")
            print(f"[browser] Chinese reply: {reply!r}; screenshot in {ARTIFACTS / 'chat_widget_chinese.png'}")
        except BaseException:
            page.screenshot(path=ARTIFACTS / "chat_widget_failure.png")
            print(f"[browser] failed; screenshot in {ARTIFACTS / 'chat_widget_failure.png'}; "
                  f"browser console errors: {console_errors[-10:]}")
            raise
    print(f"[browser] whole test: {time.monotonic() - started:.1f} s; screenshots in {ARTIFACTS}")
