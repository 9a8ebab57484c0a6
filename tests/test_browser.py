"""The chat widget in a real browser: JupyterLab, headless Chromium and the packaged model, end to end.

One JupyterLab (127.0.0.1, free port, random token, isolated config, HOME and TMPDIR in a temporary folder) and one
headless Chromium, driven through Playwright, serve both tests. They hold copies, outputs cleared, of both editions'
notebook 20, laid out as in the repository (``notebooks/`` and ``notebooks/zh/``), so that each kernel starts in its
edition's folder and the widget speaks that edition's language, as it does for a learner. Each test opens its
notebook, runs all cells, drives the live widget, and shuts its kernel down (one model in memory at a time).

English (notebooks/20_chat_widget.ipynb):

- the settings it shows are its own defaults (not the demo cells' greedy, 40-token ones), and the chat-template
  panel is hidden with its button saying "Show";
- a message typed and sent with **Enter** (the keyboard shortcut) streams back; it prints the time from Enter to the
  first streamed text and saves screenshots under test-artifacts/;
- with the template panel shown, a second message streams: the panel shows the new message while the reply is still
  being generated, stays within its bounded height, and Stop ends the reply (the kernel answered it mid-generation);
- greedy, a request for a code block with HTML in the message: the reply's Markdown is rendered (a ``<pre><code>``
  block, no ``` fences left), the status line gives tokens per second, and nothing from the message or the reply
  runs or becomes an element (the message's ``<img onerror=...>`` stays text);
- the refresh: saved, the page reloaded shows the same live widget with the same conversation; and a cell with just
  ``chat`` shows it again (what the saved notebook tells a learner whose refreshed page lost the widget).

Chinese (notebooks/zh/20_chat_widget.ipynb):

- the buttons, the decoding choices, the template toggle and the status line are Chinese, the texts of the Chinese
  catalogue (helpers/locale/zh/LC_MESSAGES/workbook.po);
- with max_new_tokens lowered in the slider's box, the seed's Chinese prompt 请介绍一下iPhone, sent with Enter,
  streams back (the reply grows while it is generated), under the Chinese role labels, with a Chinese status line
  that counts no more new tokens than the slider allows and their rate, its Markdown rendered (no ** or ### left);
  a screenshot is kept (test-artifacts/chat_widget_chinese.png): with the CJK font the test makes sure of, its
  characters render as glyphs, not empty boxes.

Both run under the lab's own page config (helpers/__main__.py's LAB_PAGE_CONFIG): the "official Jupyter news?"
pop-up never shows.

Finally the server shuts down, and the test checks that no server, kernel or browser process is left.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
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

from helpers import catalogue
from helpers.__main__ import LAB_PAGE_CONFIG
from helpers.serving import free_port
from helpers.widget import TEMPLATE_HEIGHT_PX

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = Path("notebooks") / "20_chat_widget.ipynb"       # both relative to the repository and to the lab's root
NOTEBOOK_ZH = Path("notebooks") / "zh" / "20_chat_widget.ipynb"
ARTIFACTS = REPO / "test-artifacts"
MESSAGE = "What is a token in a language model? Answer in one sentence."
STOP_MESSAGE = "Count from 1 to 200, one number per line."
# Markdown wanted in the reply, and HTML in the message that must stay text (and that the reply may echo)
MARKDOWN_MESSAGE = 'Write a Python hello world program in a fenced code block. <img src=x onerror="window.__xss=1">'
MARKDOWN_MAX_NEW_TOKENS = 60
NEWS_POPUP = "official Jupyter news"
CHINESE_MESSAGE = "请介绍一下iPhone"  # the seed's own prompt
CHINESE_MAX_NEW_TOKENS = 48  # typed into the slider's box: a short reply keeps the test quick

# Generous limits: the machine may be slow and shared.
SERVER_START_S = 120
PAGE_READY_S = 180
RUN_ALL_S = 900
REPLY_S = 600
SAVE_S = 180

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



def zh(key: str, **values) -> str:
    return catalogue.text(key, "zh", **values)


def finished_status(lang: str) -> re.Pattern:
    """A status line that says the Send is over, however it ended: the start of each such message of ``lang``."""
    keys = ["widget.status.done", "widget.status.stopped", "widget.status.failed", "widget.status.no_text",
            "widget.status.empty", "widget.status.busy", "error.context.too_long"]
    starts = [catalogue.messages(lang)[key].split("{")[0] for key in keys]
    return re.compile("^(" + "|".join(re.escape(start) for start in starts) + ")")


STATUS_DONE = finished_status("en")


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
    # the lab's own page config (no "Jupyter news?" pop-up), and no extension manager, which would query PyPI
    page_config = {"disabledExtensions": {**LAB_PAGE_CONFIG["disabledExtensions"],
                                          "@jupyterlab/extensionmanager-extension": True}}
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
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
        for end in (psutil.Process.terminate, psutil.Process.kill):
            for process in alive:
                try:
                    end(process)
                except psutil.NoSuchProcess:
                    pass
            _, alive = psutil.wait_procs(alive, timeout=10)
    assert not alive, f"{what}: processes left running: {[p.pid for p in alive]}"


@contextmanager
def jupyter_lab(folder: Path, root: Path):
    """JupyterLab serving the folder ``root``; yields (base URL, token, process). Shuts it down afterwards."""
    dirs = write_isolated_config(folder)
    port, token = free_port(), secrets.token_hex(24)
    from helpers.model.paths import model_files_dir

    env = {**os.environ, "WORKBOOK_MODEL": "packaged", "HF_HUB_OFFLINE": "1", "WORKBOOK_MODEL_FILES": str(model_files_dir()),
           "HOME": str(dirs["home"]), "TMPDIR": str(dirs["tmp"]), "JUPYTER_CONFIG_DIR": str(dirs["config"]),
           "JUPYTER_DATA_DIR": str(dirs["data"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
           "IPYTHONDIR": str(dirs["home"] / ".ipython"), "PYTHONUNBUFFERED": "1"}
    env.pop("WORKBOOK_LANG", None)  # each kernel's language comes from its notebook's folder, as for a learner
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={dirs['settings']}",
               f"--LabApp.workspaces_dir={dirs['workspaces']}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = folder / "jupyter.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
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
def chromium_context(executable: str, folder: Path):
    """A headless Chromium browser context that can reach 127.0.0.1 only; closes the browser and its processes
    afterwards."""
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
                yield context
            finally:
                for child in ours.children():  # Playwright's driver, and Chromium's processes below it
                    if child.pid not in earlier_children:
                        processes += family(child.pid)
                browser.close()
    finally:
        if blocked:
            print(f"[browser] blocked {len(blocked)} request(s) to the outside: {sorted(set(blocked))[:5]}")
        end_processes(processes + mentioning(str(folder)), "Chromium and Playwright")


class Lab:
    """The running JupyterLab and browser that both tests share."""

    def __init__(self, base: str, token: str, context, root: Path, log: Path):
        self.base, self.token, self.context, self.root, self.log = base, token, context, root, log

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """End every session and its kernel, so that the next test does not share the machine with a loaded model."""
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")
        deadline = time.monotonic() + 60
        while self.api("/api/kernels"):
            assert time.monotonic() < deadline, f"kernels still running: {self.api('/api/kernels')}"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def lab():
    """One JupyterLab and one Chromium for the module, serving cleared copies of both editions' notebook 20."""
    started = time.monotonic()
    executable = ensure_chromium()  # before HOME moves, so that a Playwright download lands in the real cache
    print(f"[browser] CJK fonts: {ensure_cjk_font()[:3]}")
    # a short path: Chromium's sockets live under $TMPDIR, and a socket path must stay under about 100 characters,
    # which pytest's own tmp_path can exceed
    folder = Path(tempfile.mkdtemp(prefix="qcw-", dir="/tmp" if os.path.isdir("/tmp") else None))
    jupyter, browser = folder / "jupyter", folder / "browser"
    root = jupyter / "root"
    for notebook in (NOTEBOOK, NOTEBOOK_ZH):
        (root / notebook).parent.mkdir(parents=True, exist_ok=True)
        write_cleared_copy(REPO / notebook, root / notebook)
    # Chromium writes under $HOME and Playwright under $TMPDIR: keep both inside the test's folder
    for name in ("home", "tmp"):
        (browser / name).mkdir(parents=True)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(browser / "home"))
            patch.setenv("TMPDIR", str(browser / "tmp"))
            with jupyter_lab(jupyter, root) as (base, token, _server), chromium_context(executable, browser) as context:
                yield Lab(base, token, context, root, jupyter / "jupyter.log")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"[browser] server and browser, both tests: {time.monotonic() - started:.1f} s; screenshots in "
              f"{ARTIFACTS}")


@contextmanager
def notebook_run(lab: Lab, notebook: Path, failure_png: str):
    """Open ``notebook`` in a new page, run all its cells and check they all ran cleanly; yields the page.

    Afterwards closes the page and shuts its kernel down; on a failure keeps a screenshot and the console errors.
    """
    from playwright.sync_api import expect

    started = time.monotonic()
    page = lab.context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    try:
        # ?reset: a fresh workspace, so that the notebook an earlier test opened is not opened (and run) again
        page.goto(f"{lab.base}/lab/tree/{notebook.as_posix()}?reset&token={lab.token}", timeout=PAGE_READY_S * 1000)
        expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=PAGE_READY_S * 1000)
        page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        prompts = page.wait_for_function(CELLS_FINISHED_JS, timeout=RUN_ALL_S * 1000, polling=500).json_value()
        problems = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert problems.count() == 0, f"stderr or errors in the notebook: {problems.all_inner_texts()}"
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), f"not every cell ran: {prompts}"
        print(f"[browser] {notebook}: ran all {len(prompts)} code cells in {time.monotonic() - started:.1f} s")
        yield page
    except BaseException:
        page.screenshot(path=ARTIFACTS / failure_png)
        print(f"[browser] failed; screenshot in {ARTIFACTS / failure_png}; browser console errors: "
              f"{console_errors[-10:]}")
        raise
    finally:
        page.close()
        lab.shut_down_kernels()
        print(f"[browser] {notebook}: {time.monotonic() - started:.1f} s in all")


def the_widget(page):
    """The one chat widget on the page, scrolled into view: its whole box, its status line and its text box."""
    from playwright.sync_api import expect

    chat = page.locator(".qcw-chat")
    expect(chat).to_have_count(1)
    chat.scroll_into_view_if_needed()
    return chat, page.locator(".qcw-status"), page.locator(".qcw-input input")


def watch_a_reply(page, status, lang: str) -> dict:
    """Wait until the reply the learner just sent has begun and its Send is over; what the page recorded of it."""
    from playwright.sync_api import expect

    page.wait_for_function("() => window.__qcw.first !== null", timeout=REPLY_S * 1000, polling=50)
    expect(status).to_have_text(finished_status(lang), timeout=REPLY_S * 1000)
    watch = page.evaluate("() => window.__qcw")
    print(f"[browser] Enter -> first streamed text: {(watch['first'] - watch['clicked']) / 1000:.2f} s; "
          f"status: {status.inner_text()}")
    return watch


def set_max_new_tokens(page, value: int) -> None:
    """Type ``value`` into the max_new_tokens slider's box, as a learner can."""
    from playwright.sync_api import expect

    readout = page.locator(".qcw-max-new-tokens .widget-readout")
    readout.fill(str(value))
    readout.press("Enter")
    expect(readout).to_have_text(str(value))


def conversation_texts(page, nth: int = 0) -> list[str]:
    """The texts of every turn in the ``nth`` widget on the page."""
    return page.locator(".qcw-conversation").nth(nth).locator(".qcw-text").all_inner_texts()


def save_and_wait(page, lab: Lab, notebook: Path) -> None:
    """Save with File > Save; once the page says it is saved, the file holds the widget's output (a live view).

    The page is watched, not the server: polling the contents API while the save is under way loaded a busy
    2-core server enough that the save did not finish in a minute (then JupyterLab asked "File Changed").
    """
    from playwright.sync_api import expect

    page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^File$")).click()
    page.locator('.lm-Menu-item[data-command="docmanager:save"]').click()
    dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty")
    try:
        expect(dirty).to_have_count(0, timeout=SAVE_S * 1000)
    except AssertionError:
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        status = page.locator("#jp-main-statusbar").inner_text()
        raise AssertionError(f"the notebook was not saved in {SAVE_S} s; status bar: {status!r}; dialogs: {dialogs}; "
                             f"JupyterLab log (last lines):\n{lab.log.read_text(errors='replace')[-2000:]}") from None
    saved = nbformat.read(lab.root / notebook, as_version=4)
    mimes = [[sorted(output.get("data", {})) or output.output_type for output in cell.outputs]
             for cell in saved.cells if cell.cell_type == "code"]
    assert any("application/vnd.jupyter.widget-view+json" in output_mimes for cell in mimes for output_mimes in cell), \
        f"the saved notebook holds no widget view; its code cells' outputs: {mimes}"


def test_chat_widget_in_a_real_browser(lab):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # expect()'s own 5 s default is too short on a loaded machine
    with notebook_run(lab, NOTEBOOK, "chat_widget_failure.png") as page:
        chat, status, text_box = the_widget(page)
        # after Run All the live widget starts with its own settings, not the demo cells' greedy 40 tokens
        expect(status).to_contain_text("New conversation (sampling: temperature 0.7")
        expect(status).to_contain_text("max_new_tokens 512")
        expect(page.locator(".qcw-show-template")).to_have_text("Show the chat template")
        expect(page.locator(".qcw-template")).to_be_hidden()
        page.evaluate(WATCH_REPLY_JS)

        # a question, sent with Enter, streamed in
        text_box.fill(MESSAGE)
        text_box.press("Enter")
        watch = watch_a_reply(page, status, "en")
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
        stop = page.locator("button.qcw-stop")
        resting = stop.bounding_box()
        text_box.fill(STOP_MESSAGE)
        page.locator("button.qcw-send").click()
        page.wait_for_function("() => window.__qcw.first !== null", timeout=REPLY_S * 1000, polling=50)
        expect(panel).to_contain_text(STOP_MESSAGE, timeout=30_000)  # redrawn while the reply streams
        assert stop.is_enabled(), "the reply finished before the panel was checked"
        streaming = stop.bounding_box()
        # a button that moves down as the reply grows takes a learner's click (and Playwright's) somewhere else
        assert abs(streaming["y"] - resting["y"]) < 1, f"Stop moved while the reply streamed: {resting} -> {streaming}"
        clicked = time.monotonic()
        stop.click()
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
        assert page.get_by_text(NEWS_POPUP).count() == 0, "the Jupyter news pop-up is showing"

        # Markdown rendered, HTML never live: greedy, a code block asked for, HTML in the message
        page.locator(".qcw-show-template").click()
        page.locator(".qcw-mode button").filter(has_text=re.compile(r"^greedy$")).click()
        set_max_new_tokens(page, MARKDOWN_MAX_NEW_TOKENS)
        text_box.fill(MARKDOWN_MESSAGE)
        text_box.press("Enter")
        watch_a_reply(page, status, "en")
        expect(users).to_have_text([MESSAGE, STOP_MESSAGE, MARKDOWN_MESSAGE])   # the HTML shown as typed
        reply = replies.nth(2)
        print(f"[browser] Markdown reply: {reply.inner_text()!r}")
        expect(reply.locator("pre code")).not_to_have_count(0)
        assert "```" not in reply.inner_text(), "the code fence is shown raw"
        assert re.search(r"\(\d+\.\d tokens/s\)", status.inner_text()), status.inner_text()
        live = page.locator(".qcw-conversation").locator("img, script, iframe, svg, [onerror], [onload], [onclick]")
        assert live.count() == 0, "HTML from the conversation became elements"
        assert page.evaluate("() => window.__xss") is None, "the message's onerror= ran"
        chat.screenshot(path=ARTIFACTS / "chat_widget_markdown.png")

        # the refresh: saved, the reloaded page shows the same live widget and conversation
        before = conversation_texts(page)
        save_and_wait(page, lab, NOTEBOOK)
        page.reload()
        expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=PAGE_READY_S * 1000)
        expect(page.locator(".qcw-chat")).to_have_count(1)
        page.locator(".qcw-chat").scroll_into_view_if_needed()
        expect(page.locator(".qcw-conversation .qcw-text")).to_have_text(before, use_inner_text=True)
        expect(page.locator(".qcw-conversation pre code")).not_to_have_count(0)
        assert page.get_by_text(NEWS_POPUP).count() == 0, "the Jupyter news pop-up is showing"
        # and a cell with just `chat`, what the saved notebook says to run, shows it again
        page.locator(".jp-Notebook .jp-Cell").last.click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")
        page.keyboard.press("Enter")
        page.keyboard.type("chat")
        page.keyboard.press("Shift+Enter")
        expect(page.locator(".qcw-chat")).to_have_count(2)
        expect(page.locator(".qcw-conversation").nth(1).locator(".qcw-text")).to_have_text(before,
                                                                                        use_inner_text=True)
        page.locator(".qcw-chat").nth(1).screenshot(path=ARTIFACTS / "chat_widget_shown_again.png")


def test_the_chinese_widget_in_a_real_browser(lab):
    """The Chinese edition's notebook 20: Chinese labels and status line, and a Chinese message streamed back."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    with notebook_run(lab, NOTEBOOK_ZH, "chat_widget_zh_failure.png") as page:
        chat, status, text_box = the_widget(page)
        # the labels a learner sees are the Chinese catalogue's
        expect(page.locator("button.qcw-send")).to_have_text(zh("widget.send"))
        expect(page.locator("button.qcw-stop")).to_have_text(zh("widget.stop"))
        expect(page.locator("button.qcw-reset")).to_have_text(zh("widget.reset"))
        expect(page.locator(".qcw-mode button")).to_have_text([zh("widget.mode.sampling"), zh("widget.mode.greedy")])
        expect(page.locator(".qcw-show-template")).to_have_text(zh("widget.template.show"))
        expect(page.locator(".qcw-system label")).to_have_text(zh("widget.system_prompt"))
        expect(text_box).to_have_attribute("placeholder", zh("widget.placeholder"))
        assert page.locator("button.qcw-send").inner_text() == "发送"
        # the last cell's reset(defaults=True): a new conversation, its settings said in Chinese
        sampling = zh("widget.settings.sampling", temperature=0.7, top_p=0.8, top_k=20,
                      random_seed=zh("widget.settings.new_random_seed"))
        settings = zh("widget.settings.summary", decoding=sampling, repetition_penalty=1.1, max_new_tokens=512)
        expect(status).to_have_text(zh("widget.status.new_conversation", settings=settings))

        assert page.get_by_text(NEWS_POPUP).count() == 0, "the Jupyter news pop-up is showing"
        # a short reply: max_new_tokens typed into the slider's box, as a learner can
        set_max_new_tokens(page, CHINESE_MAX_NEW_TOKENS)

        page.evaluate(WATCH_REPLY_JS)
        text_box.fill(CHINESE_MESSAGE)
        text_box.press("Enter")
        watch = watch_a_reply(page, status, "zh")
        done = status.inner_text()
        assert done.startswith(catalogue.messages("zh")["widget.status.done"].split("{")[0]), done  # 完成：
        new_tokens = int(re.match(r"\D*(\d+)", done).group(1))
        assert 1 <= new_tokens <= CHINESE_MAX_NEW_TOKENS, f"{new_tokens} new tokens, more than the slider allows"
        users = page.locator(".qcw-conversation .qcw-user .qcw-text")
        replies = page.locator(".qcw-conversation .qcw-assistant .qcw-text")
        expect(users).to_have_text([CHINESE_MESSAGE])
        expect(replies).to_have_count(1)
        reply = replies.first.inner_text()
        assert reply.strip(), "the Chinese message got an empty reply"
        # Markdown rendered: no whole **bold** pair and no heading line left as text. (A reply cut by max_new_tokens
        # may end inside a bold, "**屏幕": that lone ** has no partner, and Markdown shows it as it is.)
        raw = re.search(r"\*\*[^*\n]+\*\*|^#{1,6} ", reply, re.MULTILINE)
        assert raw is None, f"Markdown shown raw ({raw and raw.group(0)!r}): {reply!r}"
        assert re.search(r"每秒 \d+\.\d 个词元", done), done
        assert len(watch["lengths"]) >= 2, f"the reply did not grow while streaming: {watch['lengths']}"
        expect(page.locator(".qcw-conversation .qcw-user > b")).to_have_text(zh("widget.role.user"))
        expect(page.locator(".qcw-conversation .qcw-assistant > b")).to_have_text(zh("widget.role.assistant"))
        page.locator(".qcw-conversation").screenshot(path=ARTIFACTS / "chat_widget_chinese.png")
        chat.screenshot(path=ARTIFACTS / "chat_widget_zh.png")
        print(f"[browser] Chinese reply: {reply!r}; screenshots in {ARTIFACTS / 'chat_widget_chinese.png'} and "
              f"{ARTIFACTS / 'chat_widget_zh.png'}")
